using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using CloudStore.LocalStack;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CloudStore.Tests.Infrastructure;

/// <summary>
/// A FAKE external OpenID Connect provider (stand-in for Entra ID or Okta, which cannot run here): a
/// real HTTPS server on loopback that publishes a discovery document and an RSA signing key, and signs
/// tokens as such a provider would. CloudStore fetches its keys over HTTPS like any real issuer's.
/// </summary>
public sealed class FakeExternalIdentityProvider : IAsyncDisposable
{
    static readonly string[] SigningAlgorithms = ["RS256"];
    readonly WebApplication _app;
    readonly RsaSecurityKey _securityKey;

    FakeExternalIdentityProvider(WebApplication app, RsaSecurityKey securityKey, string issuer, CertificateFiles certificates)
    {
        _app = app;
        _securityKey = securityKey;
        Issuer = issuer;
        Certificates = certificates;
    }

    public string Issuer { get; }

    public CertificateFiles Certificates { get; }

    public static async Task<FakeExternalIdentityProvider> StartAsync(string folder)
    {
        var certificates = DevelopmentCertificates.Ensure(folder, TimeProvider.System);
        using var pem = X509Certificate2.CreateFromPemFile(certificates.ServerCertificate, certificates.ServerKey);
        var certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0, listen => listen.UseHttps(certificate)));
        var app = builder.Build();
        var rsa = RSA.Create(2048);
        var securityKey = new RsaSecurityKey(rsa) { KeyId = "fake-idp-key-1" };
        var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false)) { KeyId = securityKey.KeyId });
        string? issuer = null;
        app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = issuer!,
            ["jwks_uri"] = issuer + "/keys",
            ["id_token_signing_alg_values_supported"] = SigningAlgorithms,
        }));
        app.MapGet("/keys", () => Results.Json(new { keys = new[] { new { kty = jwk.Kty, kid = jwk.Kid, use = "sig", n = jwk.N, e = jwk.E } } }));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        issuer = address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/');
        return new FakeExternalIdentityProvider(app, securityKey, issuer, certificates);
    }

    /// <summary>A token as the provider would issue it for a CloudStore user.</summary>
    /// <param name="email">The <c>email</c> claim; by default <c>{subject}@sso.test</c>.</param>
    public string IssueToken(string audience, string subject, IEnumerable<string> roles, TimeSpan? lifetime = null, SecurityKey? signWith = null, string? email = null)
    {
        var now = TimeProvider.System.GetUtcNow();
        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = audience,
            IssuedAt = (now - TimeSpan.FromMinutes(1)).UtcDateTime,
            NotBefore = (now - TimeSpan.FromMinutes(1)).UtcDateTime,
            Expires = (now + (lifetime ?? TimeSpan.FromMinutes(10))).UtcDateTime,
            Claims = new Dictionary<string, object> { ["sub"] = subject, ["roles"] = roles.ToArray(), ["email"] = email ?? subject + "@sso.test" },
            SigningCredentials = new SigningCredentials(signWith ?? _securityKey, SecurityAlgorithms.RsaSha256),
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _securityKey.Rsa.Dispose();
    }
}
