extern alias keyserver;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using CloudStore.Contracts;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;
using Xunit;

namespace CloudStore.Tests.Observability;

/// <summary>
/// The key server keeps tokens it validated (by hash) for the next request with the same token. What a valid token
/// was accepted for must not carry over: once it expires, once its signing key leaves the issuer's keys, or with any
/// byte changed, the token is refused as if it had never been seen.
/// </summary>
public sealed class KeyServerTokenCacheTests : IDisposable
{
    readonly ECDsa _signing = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    readonly ECDsa _other = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    [Fact]
    public async Task CachedToken_ItsSigningKeyRemovedFromTheIssuersKeys_Refused()
    {
        var issuer = new SwappableIssuer(Configuration(("signing", _signing)));
        await using var keyServer = Start(issuer);
        using var client = keyServer.CreateClient();
        var token = Token(_signing, "signing", TimeSpan.FromMinutes(10));

        var first = await CallerAsync(client, token);
        var again = await CallerAsync(client, token);
        issuer.Current = Configuration(("rotated", _other));
        var afterRotation = await CallerAsync(client, token);

        Assert.Equal(HttpStatusCode.OK, first);
        Assert.Equal(HttpStatusCode.OK, again);
        Assert.Equal(HttpStatusCode.Unauthorized, afterRotation);
    }

    [Fact]
    public async Task CachedToken_Tampered_Refused()
    {
        await using var keyServer = Start(new SwappableIssuer(Configuration(("signing", _signing))));
        using var client = keyServer.CreateClient();
        var token = Token(_signing, "signing", TimeSpan.FromMinutes(10));
        var parts = token.Split('.');
        // The same signature over a payload that makes the operator an administrator; and the signature itself altered.
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1])).Replace(Roles.Operator, Roles.Administrator, StringComparison.Ordinal);
        var promoted = $"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}";
        var signature = Base64UrlEncoder.DecodeBytes(parts[2]);
        signature[^1] ^= 1;
        var resigned = $"{parts[0]}.{parts[1]}.{Base64UrlEncoder.Encode(signature)}";

        Assert.Equal(HttpStatusCode.OK, await CallerAsync(client, token));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallerAsync(client, promoted));
        Assert.Equal(HttpStatusCode.Unauthorized, await CallerAsync(client, resigned));
        Assert.Equal(HttpStatusCode.OK, await CallerAsync(client, token));
    }

    [Fact]
    public async Task CachedToken_Expired_Refused()
    {
        await using var keyServer = Start(new SwappableIssuer(Configuration(("signing", _signing))), clockSkew: TimeSpan.Zero);
        using var client = keyServer.CreateClient();
        var lifetime = TimeSpan.FromSeconds(2);
        var token = Token(_signing, "signing", lifetime);
        var expires = TimeProvider.System.GetUtcNow() + lifetime;

        var fresh = await CallerAsync(client, token);
        await Task.Delay(expires - TimeProvider.System.GetUtcNow() + TimeSpan.FromSeconds(1.5));
        var expired = await CallerAsync(client, token);

        Assert.Equal(HttpStatusCode.OK, fresh);
        Assert.Equal(HttpStatusCode.Unauthorized, expired);
    }

    /// <summary>
    /// The key server with <paramref name="issuer"/> as the source of the issuer's signing keys (in place of its JWKS URL),
    /// set before the key server's own post-configuration, which applies to it as to the manager it would make.
    /// </summary>
    static WebApplicationFactory<keyserver::Program> Start(SwappableIssuer issuer, TimeSpan? clockSkew = null) =>
        new KeyServerFactory().WithWebHostBuilder(host => host.ConfigureTestServices(services =>
            services.Configure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, jwt =>
            {
                jwt.ConfigurationManager = issuer;
                jwt.TokenValidationParameters.ClockSkew = clockSkew ?? jwt.TokenValidationParameters.ClockSkew;
            })));

    static async Task<HttpStatusCode> CallerAsync(HttpClient client, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/caller");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>A key-server token for an operator, as the functions host issues them.</summary>
    static string Token(ECDsa key, string keyId, TimeSpan lifetime)
    {
        var now = TimeProvider.System.GetUtcNow().UtcDateTime;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = KeyServerFactory.Issuer,
            Audience = Audiences.KeyServer,
            TokenType = "at+jwt",
            IssuedAt = now,
            NotBefore = now.AddSeconds(-1),
            Expires = now + lifetime,
            Claims = new Dictionary<string, object>
            {
                [ClaimNames.Subject] = Guid.NewGuid().ToString(),
                [ClaimNames.Organization] = Guid.NewGuid().ToString(),
                [ClaimNames.Role] = Roles.Operator,
            },
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(key) { KeyId = keyId }, SecurityAlgorithms.EcdsaSha256),
        });
    }

    static OpenIdConnectConfiguration Configuration(params (string KeyId, ECDsa Key)[] keys)
    {
        var configuration = new OpenIdConnectConfiguration { Issuer = KeyServerFactory.Issuer };
        foreach (var (keyId, key) in keys)
        {
            configuration.SigningKeys.Add(new ECDsaSecurityKey(ECDsa.Create(key.ExportParameters(includePrivateParameters: false))) { KeyId = keyId });
        }

        return configuration;
    }

    /// <summary>The issuer's published configuration, replaced by the test as a JWKS fetch after a key change would.</summary>
    sealed class SwappableIssuer(OpenIdConnectConfiguration initial) : BaseConfigurationManager, IConfigurationManager<OpenIdConnectConfiguration>
    {
        public OpenIdConnectConfiguration Current { get; set; } = initial;

        public Task<OpenIdConnectConfiguration> GetConfigurationAsync(CancellationToken cancel) => Task.FromResult(Current);

        public override Task<BaseConfiguration> GetBaseConfigurationAsync(CancellationToken cancel) => Task.FromResult<BaseConfiguration>(Current);

        public override void RequestRefresh()
        {
        }
    }

    public void Dispose()
    {
        _signing.Dispose();
        _other.Dispose();
    }
}
