using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Auth;
using CloudStore.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Xunit;

namespace CloudStore.Tests.ControlPlane;

public sealed class TokenTests(FunctionsFactory factory) : IClassFixture<FunctionsFactory>
{
    [Fact]
    public async Task ProtectedEndpoint_ValidAdministratorToken_Answers()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var client = tenant.Client(tenant.Administrator);

        using var response = await client.GetAsync("/api/users");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task ProtectedEndpoint_ExpiredToken_401()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var expired = Issue(tenant, Audiences.Api, issuedAt: factory.Clock.GetUtcNow().AddMinutes(-30));
        using var client = factory.ClientWithToken(expired);

        using var response = await client.GetAsync("/api/users");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task ProtectedEndpoint_KeyServerAudienceToken_401()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var client = factory.ClientWithToken(Issue(tenant, Audiences.KeyServer, factory.Clock.GetUtcNow()));

        using var response = await client.GetAsync("/api/users");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task ProtectedEndpoint_TokenSignedByAnotherKeyWithOurKeyId_401()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var keys = factory.Services.GetRequiredService<SigningKeys>();
        using var forgerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var forged = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = FunctionsFactory.Issuer,
            Audience = Audiences.Api,
            TokenType = "at+jwt",
            Claims = new Dictionary<string, object>
            {
                [ClaimNames.Subject] = tenant.Administrator.Id.ToString(),
                [ClaimNames.Organization] = tenant.OrganizationId.ToString(),
                [ClaimNames.Role] = Roles.Administrator,
            },
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(forgerKey) { KeyId = keys.SecurityKey.KeyId }, SecurityAlgorithms.EcdsaSha256),
        });
        using var client = factory.ClientWithToken(forged);

        using var response = await client.GetAsync("/api/users");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task ProtectedEndpoint_TamperedPayload_401()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var parts = tenant.Administrator.Tokens!.AccessToken.Split('.');
        var payload = Base64UrlEncoder.Decode(parts[1]).Replace(tenant.OrganizationId.ToString(), Guid.NewGuid().ToString(), StringComparison.Ordinal);
        using var client = factory.ClientWithToken($"{parts[0]}.{Base64UrlEncoder.Encode(payload)}.{parts[2]}");

        using var response = await client.GetAsync("/api/users");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task AdministratorEndpoint_ViewerToken_403()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var viewer = await tenant.AddUserAsync(Roles.Viewer);
        using var client = tenant.Client(viewer);

        using var users = await client.GetAsync("/api/users");
        using var cameras = await client.GetAsync("/api/cameras");

        Assert.Equal(HttpStatusCode.Forbidden, users.StatusCode);
        Assert.Equal(HttpStatusCode.OK, cameras.StatusCode);
    }

    [Fact]
    public async Task Refresh_RotatesAndIssuesKeyServerToken()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var client = factory.NewClient();

        var refreshed = await (await client.PostAsJsonAsync("/api/auth/token", new RefreshRequest(tenant.Administrator.Tokens!.RefreshToken!, Audiences.KeyServer)))
            .Content.ReadFromJsonAsync<TokenResponse>();

        Assert.Equal(Audiences.KeyServer, refreshed!.Audience);
        Assert.NotEqual(tenant.Administrator.Tokens.RefreshToken, refreshed.RefreshToken);
        var token = new JsonWebTokenHandler().ReadJsonWebToken(refreshed.AccessToken);
        Assert.Equal([Audiences.KeyServer], token.Audiences);
        Assert.Equal(tenant.OrganizationId.ToString(), token.GetClaim(ClaimNames.Organization).Value);
        Assert.True(token.ValidTo - token.IssuedAt <= TimeSpan.FromMinutes(15));
    }

    [Fact]
    public async Task Refresh_RevokedRefreshToken_NoLongerWorks()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var client = factory.NewClient();
        var refreshToken = tenant.Administrator.Tokens!.RefreshToken!;

        using var revoke = await client.PostAsJsonAsync("/api/auth/revoke", new RevokeRequest(refreshToken));
        using var refresh = await client.PostAsJsonAsync("/api/auth/token", new RefreshRequest(refreshToken, null));

        Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);
    }

    [Fact]
    public async Task Refresh_ReusedRefreshToken_EndsTheWholeSession()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var client = factory.NewClient();
        var original = tenant.Administrator.Tokens!.RefreshToken!;
        var rotated = await (await client.PostAsJsonAsync("/api/auth/token", new RefreshRequest(original, null))).Content.ReadFromJsonAsync<TokenResponse>();

        using var replay = await client.PostAsJsonAsync("/api/auth/token", new RefreshRequest(original, null));
        using var legitimate = await client.PostAsJsonAsync("/api/auth/token", new RefreshRequest(rotated!.RefreshToken!, null));

        Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, legitimate.StatusCode);
    }

    [Fact]
    public async Task RoleChange_EndsTheUsersSessions()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var operatorUser = await tenant.AddUserAsync(Roles.Operator);
        using var admin = tenant.Client(tenant.Administrator);

        (await admin.PutAsJsonAsync($"/api/users/{operatorUser.Id}/role", new ChangeRoleRequest(Roles.Viewer))).EnsureSuccessStatusCode();
        using var client = factory.NewClient();
        using var refresh = await client.PostAsJsonAsync("/api/auth/token", new RefreshRequest(operatorUser.Tokens!.RefreshToken!, null));

        Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);
    }

    [Fact]
    public async Task Discovery_PublishesIssuerAndKeysThatVerifyOurTokens()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var client = factory.NewClient();

        var discovery = await client.GetFromJsonAsync<Dictionary<string, object>>("/api/.well-known/openid-configuration");
        var jwks = new JsonWebKeySet(await client.GetStringAsync("/api/.well-known/jwks.json"));
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(tenant.Administrator.Tokens!.AccessToken, new TokenValidationParameters
        {
            ValidIssuer = FunctionsFactory.Issuer,
            ValidAudience = Audiences.Api,
            IssuerSigningKeys = jwks.GetSigningKeys(),
        });

        Assert.Equal(FunctionsFactory.Issuer, discovery!["issuer"].ToString());
        Assert.True(result.IsValid, result.Exception?.Message);
        Assert.DoesNotContain("\"d\"", await client.GetStringAsync("/api/.well-known/jwks.json"), StringComparison.Ordinal);
    }

    string Issue(TestTenant tenant, string audience, DateTimeOffset issuedAt)
    {
        var clock = new TestClock();
        clock.Advance(issuedAt - clock.GetUtcNow());
        var tokens = new AccessTokens(factory.Services.GetRequiredService<SigningKeys>(), factory.Services.GetRequiredService<IOptions<AuthOptions>>(), clock);
        return tokens.ForUser(tenant.Administrator.Id, tenant.OrganizationId, Roles.Administrator, audience, ["pwd", "otp"], null).AccessToken;
    }
}
