using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using CloudStore.Contracts;
using CloudStore.Tests.Infrastructure;
using Microsoft.IdentityModel.Tokens;
using Xunit;

namespace CloudStore.Tests.ControlPlane;

/// <summary>Single sign-on: tokens from a configured external OpenID Connect issuer, validated with its published keys.</summary>
public sealed class ExternalIssuerTests(ExternalIssuerTests.Setup setup) : IClassFixture<ExternalIssuerTests.Setup>
{
    const string Audience = "api://cloudstore-sso-test";

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
