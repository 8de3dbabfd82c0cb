using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CloudStore.Contracts;
using CloudStore.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudStore.Tests.ControlPlane;

/// <summary>
/// Tenant isolation from the attacker's side. An administrator of organisation A (the strongest role
/// there, or A's enrolled device for device endpoints) aims every endpoint at organisation B. Each
/// attempt must see nothing of B and change nothing of B. The table must name every endpoint the app
/// maps, so a new endpoint without an attack fails <see cref="EveryMappedEndpoint_HasAnAttackInTheTable"/>.
/// </summary>
public sealed class TenantIsolationTests(TenantIsolationTests.Tenants tenants) : IClassFixture<TenantIsolationTests.Tenants>
{
    public enum Attacker
    {
        Administrator,
        Device,
        Anonymous,
    }

    /// <summary>
    /// How the attacker aims one endpoint at B. <paramref name="NamesVictim"/>: the request (path or body) names
    /// one of B's objects, so the answer must be 404 or 403, exactly as for an object that does not exist. Otherwise the
    /// endpoint acts on the caller's own organisation and may succeed, but must show and change nothing of B.
    /// A null path marks an endpoint that is not scoped to an organisation, with the reason.
    /// </summary>
    public sealed record Attack(Attacker As, Func<Victim, string>? Path, Func<Victim, object?>? Body = null, bool NamesVictim = false, string? NotScopedBecause = null);

    public sealed record Victim(Guid OrganizationId, Guid AdministratorId, Guid OperatorId, Guid DeviceId, Guid PendingDeviceId, Guid CameraId, string OperatorEmail, Guid HoldId, Guid InvitedId, string Name);

    static readonly Dictionary<string, Attack> Table = new(StringComparer.Ordinal)
    {
        ["GET /api/health"] = new(Attacker.Anonymous, null, NotScopedBecause: "health probe"),
        ["GET /api/openapi/{documentName}.json"] = new(Attacker.Anonymous, null, NotScopedBecause: "public API description"),
        ["GET /api/.well-known/openid-configuration"] = new(Attacker.Anonymous, null, NotScopedBecause: "public discovery document"),
        ["GET /api/.well-known/jwks.json"] = new(Attacker.Anonymous, null, NotScopedBecause: "public keys"),
        ["POST /api/auth/sign-in"] = new(Attacker.Anonymous, null, NotScopedBecause: "anonymous; refusals covered by SignInTests"),
        ["POST /api/auth/two-factor"] = new(Attacker.Anonymous, null, NotScopedBecause: "anonymous; a challenge is bound to one user (SignInTests)"),
        ["POST /api/auth/external"] = new(Attacker.Anonymous, null, NotScopedBecause: "anonymous; the organisation comes from the trusted issuer's configuration (ExternalIssuerTests, SingleSignOnTests)"),
        ["POST /api/auth/authenticator/setup"] = new(Attacker.Anonymous, null, NotScopedBecause: "anonymous; a challenge is bound to one user"),
        ["POST /api/auth/authenticator/confirm"] = new(Attacker.Anonymous, null, NotScopedBecause: "anonymous; a challenge is bound to one user"),
        ["POST /api/auth/token"] = new(Attacker.Anonymous, null, NotScopedBecause: "a refresh token is bound to one user (TokenTests)"),
        ["POST /api/auth/revoke"] = new(Attacker.Anonymous, null, NotScopedBecause: "a refresh token is bound to one user (TokenTests)"),
        ["POST /api/devices/enrol"] = new(Attacker.Anonymous, null, NotScopedBecause: "anonymous; a code is bound to one device (DeviceTests)"),
        ["POST /api/invitations/accept"] = new(Attacker.Anonymous, null, NotScopedBecause: "anonymous; a link's token is bound to one user (InvitationTests)"),
        ["POST /api/password-reset"] = new(Attacker.Anonymous, null, NotScopedBecause: "anonymous; a link's token is bound to one user (InvitationTests)"),
        ["POST /api/devices/token"] = new(Attacker.Anonymous, null, NotScopedBecause: "anonymous; an assertion is bound to one device key (DeviceTests)"),

        ["GET /api/organization/"] = new(Attacker.Administrator, _ => "/api/organization"),
        ["PUT /api/organization/policy"] = new(Attacker.Administrator, _ => "/api/organization/policy", _ => new OrganizationPolicyRequest(false)),
        ["GET /api/organization/licences"] = new(Attacker.Administrator, _ => "/api/organization/licences"),
        ["GET /api/organization/notifications"] = new(Attacker.Administrator, _ => "/api/organization/notifications"),
        ["GET /api/users/"] = new(Attacker.Administrator, _ => "/api/users"),
        ["POST /api/users/"] = new(Attacker.Administrator, _ => "/api/users", v => new CreateUserRequest(v.OperatorEmail, Roles.Administrator)),
        ["GET /api/users/{id:guid}"] = new(Attacker.Administrator, v => $"/api/users/{v.OperatorId}", NamesVictim: true),
        ["PUT /api/users/{id:guid}/role"] = new(Attacker.Administrator, v => $"/api/users/{v.OperatorId}/role", _ => new ChangeRoleRequest(Roles.Administrator), NamesVictim: true),
        ["POST /api/users/{id:guid}/disable"] = new(Attacker.Administrator, v => $"/api/users/{v.OperatorId}/disable", NamesVictim: true),
        ["POST /api/users/{id:guid}/enable"] = new(Attacker.Administrator, v => $"/api/users/{v.OperatorId}/enable", NamesVictim: true),
        ["DELETE /api/users/{id:guid}"] = new(Attacker.Administrator, v => $"/api/users/{v.OperatorId}", NamesVictim: true),
        ["POST /api/users/{id:guid}/invitation"] = new(Attacker.Administrator, v => $"/api/users/{v.InvitedId}/invitation", NamesVictim: true),
        ["POST /api/users/{id:guid}/password-reset"] = new(Attacker.Administrator, v => $"/api/users/{v.OperatorId}/password-reset", NamesVictim: true),
        ["POST /api/users/{id:guid}/two-factor/reset"] = new(Attacker.Administrator, v => $"/api/users/{v.AdministratorId}/two-factor/reset", NamesVictim: true),
        ["GET /api/me/"] = new(Attacker.Administrator, _ => "/api/me"),
        ["POST /api/me/recovery-codes"] = new(Attacker.Administrator, _ => "/api/me/recovery-codes", _ => new SecondFactorRequest("123456")),
        ["POST /api/me/password"] = new(Attacker.Administrator, _ => "/api/me/password", _ => new ChangePasswordRequest(TestTenant.NewPassword(), TestTenant.NewPassword(), "123456")),
        ["POST /api/me/two-factor/reset"] = new(Attacker.Administrator, _ => "/api/me/two-factor/reset", _ => new SecondFactorRequest("123456")),
        ["GET /api/devices/"] = new(Attacker.Administrator, _ => "/api/devices"),
        ["POST /api/devices/"] = new(Attacker.Administrator, _ => "/api/devices", _ => new CreateDeviceRequest("VICTIMSERIAL1", "AXIS M3086-V")),
        ["GET /api/devices/{id:guid}"] = new(Attacker.Administrator, v => $"/api/devices/{v.DeviceId}", NamesVictim: true),
        ["POST /api/devices/{id:guid}/enrolment-code"] = new(Attacker.Administrator, v => $"/api/devices/{v.PendingDeviceId}/enrolment-code", NamesVictim: true),
        ["POST /api/devices/{id:guid}/revoke"] = new(Attacker.Administrator, v => $"/api/devices/{v.DeviceId}/revoke", NamesVictim: true),
        ["POST /api/devices/{id:guid}/cameras"] = new(Attacker.Administrator, v => $"/api/devices/{v.DeviceId}/cameras", _ => new CreateCameraRequest("Planted", 9), NamesVictim: true),
        ["GET /api/devices/self"] = new(Attacker.Device, _ => "/api/devices/self"),
        ["GET /api/cameras/"] = new(Attacker.Administrator, _ => "/api/cameras"),
        ["GET /api/cameras/{id:guid}"] = new(Attacker.Administrator, v => $"/api/cameras/{v.CameraId}", NamesVictim: true),
        ["POST /api/cameras/{id:guid}/enable"] = new(Attacker.Administrator, v => $"/api/cameras/{v.CameraId}/enable", NamesVictim: true),
        ["POST /api/cameras/{id:guid}/disable"] = new(Attacker.Administrator, v => $"/api/cameras/{v.CameraId}/disable", NamesVictim: true),
        ["GET /api/audit"] = new(Attacker.Administrator, v => $"/api/audit?actor=user:{v.AdministratorId}"),
        ["GET /api/cameras/{id:guid}/timeline"] = new(Attacker.Administrator, v => $"/api/cameras/{v.CameraId}/timeline?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z", NamesVictim: true),
        ["GET /api/cameras/{id:guid}/playlist.m3u8"] = new(Attacker.Administrator, v => $"/api/cameras/{v.CameraId}/playlist.m3u8?from=2026-01-01T00:00:00Z&to=2026-01-01T01:00:00Z", NamesVictim: true),
        ["GET /api/cameras/{id:guid}/live.m3u8"] = new(Attacker.Administrator, v => $"/api/cameras/{v.CameraId}/live.m3u8", NamesVictim: true),
        ["POST /api/cameras/{id:guid}/tamper-reports"] = new(Attacker.Administrator, v => $"/api/cameras/{v.CameraId}/tamper-reports",
            _ => new TamperReportRequest(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), TamperReportRequest.Segment), NamesVictim: true),
        ["POST /api/cameras/{id:guid}/exports"] = new(Attacker.Administrator, v => $"/api/cameras/{v.CameraId}/exports",
            _ => new ExportRequest(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 1, 1, 1, 0, 0, TimeSpan.Zero)), NamesVictim: true),
        ["PUT /api/organization/region"] = new(Attacker.Administrator, _ => "/api/organization/region", _ => new OrganizationRegionRequest(Regions.UsVirginia)),
        ["POST /api/credentials"] = new(Attacker.Device, _ => "/api/credentials", v => new CredentialsRequest(v.CameraId), NamesVictim: true),
        ["POST /api/segments"] = new(Attacker.Device, _ => "/api/segments", v => new SegmentBatch(v.CameraId, [], [VictimSegment()]), NamesVictim: true),
        ["PUT /api/cameras/{id:guid}/retention"] = new(Attacker.Administrator, v => $"/api/cameras/{v.CameraId}/retention", _ => new CameraRetentionRequest(1), NamesVictim: true),
        ["PUT /api/organization/retention"] = new(Attacker.Administrator, _ => "/api/organization/retention", _ => new OrganizationRetentionRequest(1)),
        ["POST /api/cameras/{id:guid}/holds"] = new(Attacker.Administrator, v => $"/api/cameras/{v.CameraId}/holds",
            _ => new CreateLegalHoldRequest(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 1, 2, 0, 0, 0, TimeSpan.Zero), "Planted"), NamesVictim: true),
        ["GET /api/cameras/{id:guid}/holds"] = new(Attacker.Administrator, v => $"/api/cameras/{v.CameraId}/holds", NamesVictim: true),
        ["POST /api/cameras/{id:guid}/holds/{holdId:guid}/release"] = new(Attacker.Administrator, v => $"/api/cameras/{v.CameraId}/holds/{v.HoldId}/release", NamesVictim: true),
        ["DELETE /api/cameras/{id:guid}"] = new(Attacker.Administrator, v => $"/api/cameras/{v.CameraId}?recordings=delete", NamesVictim: true),
        ["DELETE /api/devices/{id:guid}"] = new(Attacker.Administrator, v => $"/api/devices/{v.DeviceId}?recordings=delete", NamesVictim: true),

        // Acts on the caller's own organisation only: typing the victim's name (and any code) deletes nothing of anyone.
        ["DELETE /api/organization"] = new(Attacker.Administrator, _ => "/api/organization", v => new DeleteOrganizationRequest(v.Name, "123456")),
    };

    /// <summary>A well-formed segment an attacker might try to index into B's camera.</summary>
    static SegmentMetadata VictimSegment() => new(
        0, TimeProvider.System.GetUtcNow().AddMinutes(-1), 4000,
        new StoredObject("segments/000000000000.m4s", 1000, new string('a', 64), Guid.NewGuid(), new string('b', 32)),
        "init/planted.mp4", "avc1.4d401e", 640, 360);

    public static TheoryData<string> ScopedEndpoints => [.. Table.Where(e => e.Value.Path is not null).Select(e => e.Key)];

    [Fact]
    public void EveryMappedEndpoint_HasAnAttackInTheTable()
    {
        var mapped = MappedEndpoints(tenants.Factory.Services);

        var missing = mapped.Except(Table.Keys).ToList();
        var stale = Table.Keys.Except(mapped).ToList();

        Assert.True(missing.Count == 0, "Endpoints without an attack in the table: " + string.Join(", ", missing));
        Assert.True(stale.Count == 0, "Table entries for endpoints that no longer exist: " + string.Join(", ", stale));
    }

    [Theory]
    [MemberData(nameof(ScopedEndpoints))]
    public async Task Endpoint_AimedAtAnotherOrganisation_SeesAndChangesNothingOfIt(string endpoint)
    {
        var attack = Table[endpoint];
        var method = new HttpMethod(endpoint[..endpoint.IndexOf(' ', StringComparison.Ordinal)]);
        var before = await tenants.SnapshotOfVictimAsync();
        using var client = tenants.Factory.ClientWithToken(attack.As == Attacker.Device ? tenants.AttackerDeviceToken : tenants.Attacker.Administrator.Tokens!.AccessToken);
        using var request = new HttpRequestMessage(method, attack.Path!(tenants.Victim));
        if (attack.Body?.Invoke(tenants.Victim) is { } body)
        {
            request.Content = JsonContent.Create(body, body.GetType());
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True((int)response.StatusCode < 500, $"{endpoint}: {(int)response.StatusCode} {text}");
        foreach (var secret in tenants.VictimIdentifiers)
        {
            Assert.DoesNotContain(secret, text, StringComparison.OrdinalIgnoreCase);
        }

        if (attack.NamesVictim)
        {
            Assert.True(response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Forbidden, $"{endpoint}: {(int)response.StatusCode} {text}");
        }

        Assert.Equal(before, await tenants.SnapshotOfVictimAsync());
    }

    static HashSet<string> MappedEndpoints(IServiceProvider services) =>
    [
        .. services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["ANY"]).Select(m => $"{m} {e.RoutePattern.RawText}")),
    ];

    /// <summary>Organisation A (the attacker, with an enrolled device) and organisation B (the victim, with users, devices and a camera).</summary>
    public sealed class Tenants : IAsyncLifetime
    {
        public FunctionsFactory Factory { get; } = new();

        public TestTenant Attacker { get; private set; } = null!;

        public string AttackerDeviceToken { get; private set; } = null!;

        public Victim Victim { get; private set; } = null!;

        /// <summary>Strings that identify B's objects: none may appear in an answer to A.</summary>
        public IReadOnlyList<string> VictimIdentifiers { get; private set; } = [];

        public async Task InitializeAsync()
        {
            Attacker = await TestTenant.CreateAsync(Factory, "Attacker");
            AttackerDeviceToken = (await Attacker.EnrolDeviceAsync("ATTACKER0001")).AccessToken;
            var victim = await TestTenant.CreateAsync(Factory, "Victim");
            var operatorUser = await victim.AddUserAsync(Roles.Operator);
            var invited = await victim.InviteAsync(Roles.Viewer);
            await victim.EnrolDeviceAsync("VICTIM000001");
            using var admin = victim.Client(victim.Administrator);
            var devices = await admin.GetFromJsonAsync<List<DeviceResponse>>("/api/devices");
            var device = devices!.Single();
            var pending = await (await admin.PostAsJsonAsync("/api/devices", new CreateDeviceRequest("VICTIM000002", "AXIS Q1656"))).Content.ReadFromJsonAsync<EnrolmentCodeResponse>();
            var camera = await (await admin.PostAsJsonAsync($"/api/devices/{device.Id}/cameras", new CreateCameraRequest("Vault", 1))).Content.ReadFromJsonAsync<CameraResponse>();
            (await admin.PostAsync($"/api/cameras/{camera!.Id}/enable", null)).EnsureSuccessStatusCode();
            var hold = await (await admin.PostAsJsonAsync($"/api/cameras/{camera!.Id}/holds", new CreateLegalHoldRequest(
                new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 1, 2, 0, 0, 0, TimeSpan.Zero), "VICTIM-CASE-7"))).Content.ReadFromJsonAsync<LegalHoldResponse>();
            var name = (await admin.GetFromJsonAsync<OrganizationResponse>("/api/organization"))!.Name;
            Victim = new Victim(victim.OrganizationId, victim.Administrator.Id, operatorUser.Id, device.Id, pending!.DeviceId, camera.Id, operatorUser.Email, hold!.Id, invited.Id, name);
            VictimIdentifiers =
            [
                victim.OrganizationId.ToString(), victim.Administrator.Id.ToString(), operatorUser.Id.ToString(), device.Id.ToString(),
                pending.DeviceId.ToString(), camera.Id.ToString(), victim.Administrator.Email, operatorUser.Email, "VICTIM00000", "Vault",
                hold.Id.ToString(), "VICTIM-CASE-7", invited.Id.ToString(), invited.Email,
            ];
        }

        /// <summary>Everything of B's that an attack could change, as one comparable string.</summary>
        public Task<string> SnapshotOfVictimAsync() => Factory.WithDirectoryAsync(async db =>
        {
            var id = Victim.OrganizationId;
            var state = new
            {
                organization = await db.Organizations.Where(o => o.Id == id).Select(o => new { o.Name, o.RequireTwoFactorForAll, o.DefaultRetentionDays, o.DeletedAt }).SingleAsync(),
                tombstones = await db.OrganizationTombstones.CountAsync(t => t.OrganizationId == id),
                users = await db.Users.Where(u => u.OrganizationId == id).OrderBy(u => u.Id)
                    .Select(u => new { u.Id, u.Email, u.Role, u.TwoFactorEnabled, u.SecurityStamp, u.PasswordHash, u.DisabledAt }).ToListAsync(),
                userTokens = await db.UserTokens.Where(t => db.Users.Any(u => u.Id == t.UserId && u.OrganizationId == id)).OrderBy(t => t.UserId).ThenBy(t => t.Name)
                    .Select(t => new { t.UserId, t.Name, t.Value }).ToListAsync(),
                sessions = await db.RefreshTokens.Where(t => db.Users.Any(u => u.Id == t.UserId && u.OrganizationId == id)).OrderBy(t => t.Id)
                    .Select(t => new { t.Id, t.RevokedAt }).ToListAsync(),
                links = await db.AccountTokens.Where(t => db.Users.Any(u => u.Id == t.UserId && u.OrganizationId == id)).OrderBy(t => t.Id)
                    .Select(t => new { t.Id, t.Purpose, t.TokenHash, t.ExpiresAt, t.UsedAt }).ToListAsync(),
                devices = await db.Devices.Where(d => d.OrganizationId == id).OrderBy(d => d.Id)
                    .Select(d => new { d.Id, d.Serial, Status = d.Status.ToString(), d.EnrolmentCodeHash, d.PublicKey, d.RevokedAt, d.ReportedFirmwareVersion, d.FirmwareReportedAt, d.DeletedAt }).ToListAsync(),
                cameras = await db.Cameras.Where(c => c.OrganizationId == id || db.Devices.Any(d => d.Id == c.DeviceId && d.OrganizationId == id)).OrderBy(c => c.Id)
                    .Select(c => new { c.Id, c.Name, c.Enabled, c.OrganizationId, c.RetentionDays, c.DeletedAt, c.RecordingsAfterDeletion }).ToListAsync(),
                licences = await db.Licences.Where(l => l.OrganizationId == id || l.CameraId == Victim.CameraId).OrderBy(l => l.Id)
                    .Select(l => new { l.Id, l.OrganizationId, State = l.State.ToString(), l.CameraId, l.FirstAllocatedAt }).ToListAsync(),
                holds = await db.LegalHolds.Where(h => h.OrganizationId == id || db.Cameras.Any(c => c.Id == h.CameraId && c.OrganizationId == id)).OrderBy(h => h.Id)
                    .Select(h => new { h.Id, h.CameraId, h.OrganizationId, h.CaseReference, h.ReleasedAt }).ToListAsync(),
            };
            return JsonSerializer.Serialize(state);
        });

        public Task DisposeAsync() => Factory.DisposeAsync().AsTask();
    }
}
