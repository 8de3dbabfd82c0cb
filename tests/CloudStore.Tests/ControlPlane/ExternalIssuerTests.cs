using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using Xunit;

namespace CloudStore.Tests.ControlPlane;

/// <summary>Single sign-on: tokens from a configured external OpenID Connect issuer, validated with its published keys.</summary>
public sealed class ExternalIssuerTests(ExternalIssuerTests.Setup setup) : IClassFixture<ExternalIssuerTests.Setup>
{
    const string Audience = "api://cloudstore-sso-test";

    /// <summary>The player's client id at the provider: the audience of the ID tokens it hands over.</summary>
    const string PlayerClient = "cloudstore-player";

    [Fact]
    public async Task ExternalToken_OperatorRole_ReadsOwnOrganisationsCameras_NotAdministration()
    {
        using var client = setup.Factory.ClientWithToken(setup.Provider.IssueToken(Audience, "alice", ["CloudStore.Operators"]));

        var cameras = await client.GetFromJsonAsync<List<CameraResponse>>("/api/cameras");
        using var users = await client.GetAsync("/api/users");

        Assert.Equal(["Lobby"], cameras!.Select(c => c.Name));
        Assert.Equal(HttpStatusCode.Forbidden, users.StatusCode);
    }

    [Fact]
    public async Task ExternalToken_AdministratorRole_MayAdminister()
    {
        using var client = setup.Factory.ClientWithToken(setup.Provider.IssueToken(Audience, "bob", ["Staff", "CloudStore.Admins"]));

        using var users = await client.GetAsync("/api/users");

        Assert.Equal(HttpStatusCode.OK, users.StatusCode);
    }

    [Theory]
    [InlineData("no mapped role")]
    [InlineData("wrong audience")]
    [InlineData("expired")]
    [InlineData("signed by an unpublished key")]
    public async Task ExternalToken_NotAcceptable_401(string flaw)
    {
        using var stranger = RSA.Create(2048);
        var token = flaw switch
        {
            "no mapped role" => setup.Provider.IssueToken(Audience, "carol", ["Staff"]),
            "wrong audience" => setup.Provider.IssueToken("api://something-else", "carol", ["CloudStore.Admins"]),
            "expired" => setup.Provider.IssueToken(Audience, "carol", ["CloudStore.Admins"], lifetime: TimeSpan.FromMinutes(-5)),
            _ => setup.Provider.IssueToken(Audience, "carol", ["CloudStore.Admins"], signWith: new RsaSecurityKey(stranger) { KeyId = "fake-idp-key-1" }),
        };
        using var client = setup.Factory.ClientWithToken(token);

        using var response = await client.GetAsync("/api/cameras");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task IdTokenExchange_GivesCloudStoreTokensForAUserOfThatOrganisation_WhoseRoleFollowsTheClaim()
    {
        var subject = "dana-" + Guid.NewGuid().ToString("N")[..8];
        using var anonymous = setup.Factory.NewClient();

        var first = await ExchangeAsync(anonymous, setup.Provider.IssueToken(PlayerClient, subject, ["CloudStore.Operators"]));
        var asOperator = await MeAsync(first.AccessToken);
        var again = await ExchangeAsync(anonymous, setup.Provider.IssueToken(PlayerClient, subject, ["Staff", "CloudStore.Admins"]));
        var asAdministrator = await MeAsync(again.AccessToken);

        Assert.Equal((subject + "@sso.test", Roles.Operator), (asOperator.Email, asOperator.Role));
        Assert.Equal((asOperator.Id, Roles.Administrator), (asAdministrator.Id, asAdministrator.Role)); // the same user, its role from the claim
        Assert.NotNull(first.RefreshToken);
        var entries = await setup.Factory.WithDirectoryAsync(db => db.AuditEntries.Where(e => e.Target == $"user:{asOperator.Id}").Select(e => e.Action + " " + e.Outcome).ToListAsync());
        Assert.Contains($"{AuditActions.UserCreated} success:sso:operator", entries);
        Assert.Contains($"{AuditActions.RoleChanged} success:operator->administrator", entries);
        Assert.Equal(2, entries.Count(e => e == $"{AuditActions.SignIn} success:sso"));
    }

    [Theory]
    [InlineData("no mapped role")]
    [InlineData("meant for the API, not the player")]
    [InlineData("expired")]
    [InlineData("signed by an unpublished key")]
    [InlineData("an address someone already has")]
    public async Task IdTokenExchange_NotAcceptable_401_AndNoUserMade(string flaw)
    {
        using var stranger = RSA.Create(2048);
        var subject = "erin-" + Guid.NewGuid().ToString("N")[..8];
        var token = flaw switch
        {
            "no mapped role" => setup.Provider.IssueToken(PlayerClient, subject, ["Staff"]),
            "meant for the API, not the player" => setup.Provider.IssueToken(Audience, subject, ["CloudStore.Admins"]),
            "expired" => setup.Provider.IssueToken(PlayerClient, subject, ["CloudStore.Admins"], lifetime: TimeSpan.FromMinutes(-5)),
            "signed by an unpublished key" => setup.Provider.IssueToken(PlayerClient, subject, ["CloudStore.Admins"], signWith: new RsaSecurityKey(stranger) { KeyId = "fake-idp-key-1" }),
            _ => setup.Provider.IssueToken(PlayerClient, subject, ["CloudStore.Admins"], email: setup.OtherOrganisationAdministratorEmail),
        };
        var usersBefore = await setup.Factory.CountAsync<CloudStore.ControlPlane.Users.CloudStoreUser>();
        using var anonymous = setup.Factory.NewClient();

        using var response = await anonymous.PostAsJsonAsync("/api/auth/external", new ExternalSignInRequest(token));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(usersBefore, await setup.Factory.CountAsync<CloudStore.ControlPlane.Users.CloudStoreUser>());
    }

    static async Task<TokenResponse> ExchangeAsync(HttpClient client, string idToken)
    {
        using var response = await client.PostAsJsonAsync("/api/auth/external", new ExternalSignInRequest(idToken));
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        var signedIn = (await response.Content.ReadFromJsonAsync<SignInResponse>())!;
        Assert.Equal(SignInResponse.SignedIn, signedIn.Status);
        return signedIn.Tokens!;
    }

    async Task<UserResponse> MeAsync(string accessToken)
    {
        using var client = setup.Factory.ClientWithToken(accessToken);
        return (await client.GetFromJsonAsync<UserResponse>("/api/me"))!;
    }

    [Fact]
    public async Task ExternalToken_CannotReachAnotherOrganisation()
    {
        using var client = setup.Factory.ClientWithToken(setup.Provider.IssueToken(Audience, "bob", ["CloudStore.Admins"]));

        using var otherCamera = await client.GetAsync($"/api/cameras/{setup.OtherOrganisationCameraId}");
        var users = await client.GetStringAsync("/api/users");

        Assert.Equal(HttpStatusCode.NotFound, otherCamera.StatusCode);
        Assert.DoesNotContain(setup.OtherOrganisationAdministratorEmail, users, StringComparison.Ordinal);
    }

    public sealed class Setup : IAsyncLifetime
    {
        readonly string _folder = Directory.CreateTempSubdirectory("cloudstore-idp-").FullName;

        public FakeExternalIdentityProvider Provider { get; private set; } = null!;

        public FunctionsFactory Factory { get; private set; } = null!;

        public Guid OtherOrganisationCameraId { get; private set; }

        public string OtherOrganisationAdministratorEmail { get; private set; } = "";

        public async Task InitializeAsync()
        {
            Provider = await FakeExternalIdentityProvider.StartAsync(_folder);
            var organizationId = Guid.NewGuid();
            Factory = new FunctionsFactory()
                .With("Tls:CaCertificateFile", Provider.Certificates.CaCertificate)
                .With("Auth:ExternalIssuers:0:Issuer", Provider.Issuer)
                .With("Auth:ExternalIssuers:0:Audience", Audience)
                .With("Auth:ExternalIssuers:0:ClientId", PlayerClient)
                .With("Auth:ExternalIssuers:0:OrganizationId", organizationId.ToString())
                .With("Auth:ExternalIssuers:0:RoleClaim", "roles")
                .With("Auth:ExternalIssuers:0:RoleMap:CloudStore.Admins", Roles.Administrator)
                .With("Auth:ExternalIssuers:0:RoleMap:CloudStore.Operators", Roles.Operator);
            var sso = await TestTenant.CreateAsync(Factory, "Sso", organizationId);
            await sso.AddCameraAsync("SSO00000001", "Lobby");
            var other = await TestTenant.CreateAsync(Factory, "Other");
            OtherOrganisationCameraId = await other.AddCameraAsync("OTHER0000001", "Back door");
            OtherOrganisationAdministratorEmail = other.Administrator.Email;
        }

        public async Task DisposeAsync()
        {
            await Factory.DisposeAsync();
            await Provider.DisposeAsync();
            Directory.Delete(_folder, recursive: true);
        }
    }
}
