using System.Net;
using System.Net.Http.Json;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Decommissioning;
using CloudStore.ControlPlane.Retention;
using CloudStore.Device;
using CloudStore.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudStore.Tests.Decommissioning;

/// <summary>
/// Deleting cameras, devices and organisations through the API, in process (no storage or key server: what the
/// deletions do at once). What the sweep then removes from storage, indexes and key stores is in DecommissionSweepTests.
/// </summary>
public sealed class DecommissionApiTests(FunctionsFactory factory) : IClassFixture<FunctionsFactory>
{
    const string Firmware = "11.11.73";

    static readonly DateTimeOffset HoldFrom = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    static string Serial() => "DEC" + Guid.NewGuid().ToString("N")[..9].ToUpperInvariant();

    /// <summary>A tenant with an enrolled device that reported good firmware and one enabled camera (using a licence).</summary>
    async Task<(TestTenant Tenant, TestCamera Camera, HttpClient Admin)> EnabledCameraAsync()
    {
        var tenant = await TestTenant.CreateAsync(factory, "Decom");
        var camera = await tenant.AddReportingCameraAsync(Serial(), "Loading bay", Firmware);
        var admin = tenant.Client(tenant.Administrator);
        (await admin.PostAsync($"/api/cameras/{camera.CameraId}/enable", null)).EnsureSuccessStatusCode();
        return (tenant, camera, admin);
    }

    static Task<HttpResponseMessage> PlaceHoldAsync(HttpClient admin, Guid cameraId) =>
        admin.PostAsJsonAsync($"/api/cameras/{cameraId}/holds", new CreateLegalHoldRequest(HoldFrom, HoldFrom.AddHours(1), "CASE-DECOM"));

    static SegmentBatch OneSegment(Guid cameraId) => new(cameraId, [], [new SegmentMetadata(
        0, TimeProvider.System.GetUtcNow().AddMinutes(-1), 4000,
        new StoredObject("segments/000000000000.m4s", 1000, new string('a', 64), Guid.NewGuid(), new string('b', 32)),
        "init/late.mp4", "avc1.4d401e", 640, 360)]);

    [Fact]
    public async Task DeleteCamera_KeepRecordings_LicenceFreed_NoGrantNoIndexing_ListedAsDeleted_HoldsStillPossible()
    {
        var (tenant, camera, admin) = await EnabledCameraAsync();
        using var _ = camera;
        using var __ = admin;
        var deviceToken = await camera.SignInAsync(factory, Firmware);
        using var device = factory.ClientWithToken(deviceToken);

        using var deleted = await admin.DeleteAsync($"/api/cameras/{camera.CameraId}?recordings=keep");
        var body = await deleted.Content.ReadFromJsonAsync<CameraDeletedResponse>();

        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(RecordingsChoices.Keep, body!.Recordings);
        Assert.Contains("until their retention ends", body.Detail, StringComparison.Ordinal);
        var shown = await admin.GetFromJsonAsync<CameraResponse>($"/api/cameras/{camera.CameraId}");
        Assert.False(shown!.Enabled);
        Assert.Equal(body.DeletedAt, shown.DeletedAt);
        Assert.Equal(RecordingsChoices.Keep, shown.RecordingsAfterDeletion);
        var listed = Assert.Single((await admin.GetFromJsonAsync<List<CameraOverviewResponse>>("/api/cameras"))!);
        Assert.NotNull(listed.DeletedAt);
        Assert.Equal(0, (await admin.GetFromJsonAsync<LicencesResponse>("/api/organization/licences"))!.Allocated);

        // The camera stops at once: no grant, nothing indexed, no enabling, no retention change; the device itself stays.
        using var grant = await device.PostAsJsonAsync("/api/credentials", new CredentialsRequest(camera.CameraId));
        using var index = await device.PostAsJsonAsync("/api/segments", OneSegment(camera.CameraId));
        using var enable = await admin.PostAsync($"/api/cameras/{camera.CameraId}/enable", null);
        using var retention = await admin.PutAsJsonAsync($"/api/cameras/{camera.CameraId}/retention", new CameraRetentionRequest(3));
        using var self = await device.GetAsync("/api/devices/self");
        Assert.Equal(HttpStatusCode.Forbidden, grant.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, index.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, enable.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, retention.StatusCode);
        Assert.Empty((await self.Content.ReadFromJsonAsync<DeviceSelfResponse>())!.Cameras);

        // Its recordings are kept, so a case may still hold some of them; a second deletion says it is done already.
        using var hold = await PlaceHoldAsync(admin, camera.CameraId);
        using var again = await admin.DeleteAsync($"/api/cameras/{camera.CameraId}?recordings=delete");
        Assert.Equal(HttpStatusCode.Created, hold.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
        var audited = await factory.WithDirectoryAsync(db => db.AuditEntries
            .Where(e => e.OrganizationId == tenant.OrganizationId && e.Action == AuditActions.CameraDeleted).Select(e => new { e.Actor, e.Outcome, e.SourceAddress }).ToListAsync());
        var entry = Assert.Single(audited);
        Assert.Equal($"user:{tenant.Administrator.Id}", entry.Actor);
        Assert.Equal("success:recordings=keep;holds=0", entry.Outcome);
        Assert.NotEqual("unknown", entry.SourceAddress);
    }

    [Fact]
    public async Task DeleteCamera_DeleteRecordings_ActiveHoldReported_NewHoldRefused409_ExistingHoldStillReleasable()
    {
        var (_, camera, admin) = await EnabledCameraAsync();
        using var _ = camera;
        using var __ = admin;
        using var placed = await PlaceHoldAsync(admin, camera.CameraId);
        var hold = await placed.Content.ReadFromJsonAsync<LegalHoldResponse>();

        using var deleted = await admin.DeleteAsync($"/api/cameras/{camera.CameraId}?recordings=delete");
        var body = await deleted.Content.ReadFromJsonAsync<CameraDeletedResponse>();
        using var another = await PlaceHoldAsync(admin, camera.CameraId);
        using var released = await admin.PostAsync($"/api/cameras/{camera.CameraId}/holds/{hold!.Id}/release", null);

        Assert.Equal(1, body!.ActiveLegalHolds);
        Assert.Contains("legal hold", body.Detail, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, another.StatusCode);
        Assert.Contains("deleted", await another.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, released.StatusCode);
    }

    [Fact]
    public async Task DeleteCamera_TwoAtOnce_OneDeletes_TheOtherIsToldItIsDone_No5xx()
    {
        var (tenant, camera, admin) = await EnabledCameraAsync();
        using var _ = camera;
        using var __ = admin;
        using var other = tenant.Client(tenant.Administrator);

        var answers = await Task.WhenAll(
            admin.DeleteAsync($"/api/cameras/{camera.CameraId}?recordings=delete"),
            other.DeleteAsync($"/api/cameras/{camera.CameraId}?recordings=keep"));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Conflict], answers.Select(a => a.StatusCode).Order());
        Assert.Equal(1, await factory.WithDirectoryAsync(db => db.AuditEntries.CountAsync(e => e.Action == AuditActions.CameraDeleted && e.Target == $"camera:{camera.CameraId}")));
        foreach (var answer in answers)
        {
            answer.Dispose();
        }
    }

    [Fact]
    public async Task DeleteDevice_RevokedAtOnce_OldKeyAndTokenRefused_SameSerialEnrolsAgainAsANewDevice()
    {
        var tenant = await TestTenant.CreateAsync(factory, "Decom");
        var serial = Serial();
        using var camera = await tenant.AddReportingCameraAsync(serial, "Gate", Firmware);
        using var admin = tenant.Client(tenant.Administrator);
        var oldToken = await camera.SignInAsync(factory, Firmware);
        var pending = await tenant.CreateDeviceAsync(Serial());
        using var pendingDeleted = await admin.DeleteAsync($"/api/devices/{pending.DeviceId}?recordings=keep");

        using var deleted = await admin.DeleteAsync($"/api/devices/{camera.DeviceId}?recordings=delete");
        var body = await deleted.Content.ReadFromJsonAsync<DeviceDeletedResponse>();

        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(camera.CameraId, Assert.Single(body!.Cameras).CameraId);
        using (var oldDevice = factory.ClientWithToken(oldToken))
        using (var self = await oldDevice.GetAsync("/api/devices/self"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, self.StatusCode);
        }

        var refused = await Assert.ThrowsAsync<DeviceRequestRefusedException>(() => camera.SignInAsync(factory, Firmware));
        Assert.Equal(401, refused.Status);
        using var gone = await admin.GetAsync($"/api/devices/{camera.DeviceId}");
        using var twice = await admin.DeleteAsync($"/api/devices/{camera.DeviceId}?recordings=delete");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, twice.StatusCode);
        Assert.DoesNotContain((await admin.GetFromJsonAsync<List<DeviceResponse>>("/api/devices"))!, d => d.Serial == serial);

        // The pending device's code died with it.
        Assert.Equal(HttpStatusCode.OK, pendingDeleted.StatusCode);
        using var someKey = DeviceKey.Create();
        var deadCode = await Assert.ThrowsAsync<DeviceRequestRefusedException>(() => factory.DeviceClient(someKey).EnrolAsync(pending.EnrolmentCode, "ANY", CancellationToken.None));
        Assert.Equal(400, deadCode.Status);

        // The same camera body is added again: a new device, a new code, a new key; the old key opens nothing of it.
        var again = await tenant.CreateDeviceAsync(serial);
        using var newKey = DeviceKey.Create();
        var enrolled = await factory.DeviceClient(newKey).EnrolAsync(again.EnrolmentCode, serial, CancellationToken.None);
        var newToken = await factory.DeviceClient(newKey).AccessTokenAsync(enrolled.DeviceId, enrolled.AssertionAudience, CancellationToken.None);
        using var newDevice = factory.ClientWithToken(newToken);
        var newSelf = await newDevice.GetFromJsonAsync<DeviceSelfResponse>("/api/devices/self");
        Assert.NotEqual(camera.DeviceId, enrolled.DeviceId);
        Assert.Equal(serial, newSelf!.Serial);
        Assert.Empty(newSelf.Cameras);
        var impostor = await Assert.ThrowsAsync<DeviceRequestRefusedException>(() =>
            factory.DeviceClient(camera.Key).AccessTokenAsync(enrolled.DeviceId, enrolled.AssertionAudience, CancellationToken.None));
        Assert.Equal(401, impostor.Status);
        Assert.Equal(1, await factory.WithDirectoryAsync(db => db.AuditEntries.CountAsync(e => e.Action == AuditActions.DeviceDeleted && e.Target == $"device:{camera.DeviceId}")));
    }

    [Fact]
    public async Task DeleteOrganization_EveryDoorShutAtOnce_TokensRefreshSignInAndDevicesRefused_NeighbourUntouched()
    {
        var tenant = await TestTenant.CreateAsync(factory, "Doomed");
        var neighbour = await TestTenant.CreateAsync(factory, "Neighbour");
        var operatorUser = await tenant.AddUserAsync(Roles.Operator);
        using var camera = await tenant.AddReportingCameraAsync(Serial(), "Yard", Firmware);
        var deviceToken = await camera.SignInAsync(factory, Firmware);
        using var admin = tenant.Client(tenant.Administrator);
        var name = (await admin.GetFromJsonAsync<OrganizationResponse>("/api/organization"))!.Name;

        using var wrongCode = await DeleteOrganizationAsync(admin, name, "000000");
        Assert.Equal(HttpStatusCode.Forbidden, wrongCode.StatusCode);
        Assert.Null(await factory.WithDirectoryAsync(db => db.Organizations.Where(o => o.Id == tenant.OrganizationId).Select(o => o.DeletedAt).SingleAsync()));

        using var deleted = await DeleteOrganizationAsync(admin, name, await tenant.Administrator.NextCodeAsync(factory.Clock));
        var body = await deleted.Content.ReadFromJsonAsync<OrganizationDeletionResponse>();

        Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        Assert.Equal(Regions.All.Order(), body!.KeysPendingIn.Order());
        foreach (var token in new[] { tenant.Administrator.Tokens!.AccessToken, operatorUser.Tokens!.AccessToken, deviceToken })
        {
            using var client = factory.ClientWithToken(token);
            using var refused = await client.GetAsync(token == deviceToken ? "/api/devices/self" : "/api/organization");
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Contains("deleted", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using var anonymous = factory.NewClient();
        using var refresh = await anonymous.PostAsJsonAsync("/api/auth/token", new RefreshRequest(operatorUser.Tokens.RefreshToken!, Audiences.Api));
        using var signIn = await anonymous.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(operatorUser.Email, operatorUser.Password));
        Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, signIn.StatusCode);
        var device = await Assert.ThrowsAsync<DeviceRequestRefusedException>(() => camera.SignInAsync(factory, Firmware));
        Assert.Equal(401, device.Status);
        using var neighbourAdmin = neighbour.Client(neighbour.Administrator);
        Assert.Equal(HttpStatusCode.OK, (await neighbourAdmin.GetAsync("/api/organization")).StatusCode);

        // Audited, and the keys' destruction, which the key server could not confirm here, left for the sweep to retry.
        var audit = await factory.WithDirectoryAsync(db => db.AuditEntries.Where(e => e.OrganizationId == tenant.OrganizationId)
            .Where(e => e.Action == AuditActions.OrganizationDeleted || e.Action == AuditActions.OrganizationKeysDestroyed).Select(e => e.Action + " " + e.Outcome).ToListAsync());
        Assert.Contains($"{AuditActions.OrganizationDeleted} failure:second-factor-refused", audit);
        Assert.Contains($"{AuditActions.OrganizationDeleted} success", audit);
        Assert.Contains($"{AuditActions.OrganizationKeysDestroyed} failure:key-server-unavailable:{Regions.EuFrankfurt}", audit);
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<RetentionSweep>().RunAsync(CancellationToken.None);
        }

        var tombstone = await factory.WithDirectoryAsync(db => db.OrganizationTombstones.SingleAsync(t => t.OrganizationId == tenant.OrganizationId));
        Assert.Null(tombstone.KeysDestroyedAt);
        Assert.Null(tombstone.PurgedAt);
        Assert.Equal($"user:{tenant.Administrator.Id}", tombstone.DeletedBy);
        Assert.True(await factory.WithDirectoryAsync(db => db.Users.AnyAsync(u => u.OrganizationId == tenant.OrganizationId)), "nothing is removed before the keys are destroyed");
    }

    [Fact]
    public async Task DeleteOrganization_TwoAtOnceWithTheSameCode_ExactlyOneAccepted_No5xx()
    {
        var tenant = await TestTenant.CreateAsync(factory, "Twice");
        using var admin = tenant.Client(tenant.Administrator);
        var name = (await admin.GetFromJsonAsync<OrganizationResponse>("/api/organization"))!.Name;
        var code = await tenant.Administrator.NextCodeAsync(factory.Clock);

        var answers = await Task.WhenAll(DeleteOrganizationAsync(admin, name, code), DeleteOrganizationAsync(admin, name, code));

        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Accepted);
        Assert.All(answers, a => Assert.InRange((int)a.StatusCode, 200, 499));
        Assert.Equal(1, await factory.WithDirectoryAsync(db => db.OrganizationTombstones.CountAsync(t => t.OrganizationId == tenant.OrganizationId)));
        Assert.Equal(1, await factory.WithDirectoryAsync(db => db.AuditEntries.CountAsync(e => e.OrganizationId == tenant.OrganizationId
            && e.Action == AuditActions.OrganizationDeleted && e.Outcome == AuditLog.Success)));
        foreach (var answer in answers)
        {
            answer.Dispose();
        }
    }

    [Fact]
    public async Task DeleteOrganization_ByOperationsFourTimesAtOnce_OneMarksIt_TheOthersFindItDeleted_NoError()
    {
        var tenant = await TestTenant.CreateAsync(factory, "Racing");
        var name = await factory.WithDirectoryAsync(db => db.Organizations.Where(o => o.Id == tenant.OrganizationId).Select(o => o.Name).SingleAsync());

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            await using var scope = factory.Services.CreateAsyncScope();
            return (await scope.ServiceProvider.GetRequiredService<OrganizationDeletion>()
                .RequestByOperationsAsync(tenant.OrganizationId, name, deleteHeld: false, CancellationToken.None)).Outcome;
        }));

        Assert.Single(outcomes, o => o == OrganizationDeletionOutcome.Accepted);
        Assert.All(outcomes, o => Assert.True(o is OrganizationDeletionOutcome.Accepted or OrganizationDeletionOutcome.AlreadyDeleted, o.ToString()));
        Assert.Equal(1, await factory.WithDirectoryAsync(db => db.AuditEntries.CountAsync(e => e.OrganizationId == tenant.OrganizationId
            && e.Action == AuditActions.OrganizationDeleted && e.Outcome == AuditLog.Success)));
    }

    [Fact]
    public async Task DeleteOrganization_ActiveLegalHold_Refused409UntilReleased_OperationsMayOverrideAndRerun()
    {
        var (tenant, camera, admin) = await EnabledCameraAsync();
        using var _ = camera;
        using var __ = admin;
        var name = (await admin.GetFromJsonAsync<OrganizationResponse>("/api/organization"))!.Name;
        using var placed = await PlaceHoldAsync(admin, camera.CameraId);

        using var refused = await DeleteOrganizationAsync(admin, name, "123456");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("legal hold", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        await using var scope = factory.Services.CreateAsyncScope();
        var deletion = scope.ServiceProvider.GetRequiredService<OrganizationDeletion>();
        Assert.Equal(OrganizationDeletionOutcome.NameMismatch, (await deletion.RequestByOperationsAsync(tenant.OrganizationId, name + "x", true, CancellationToken.None)).Outcome);
        Assert.Equal(OrganizationDeletionOutcome.LegalHoldsActive, (await deletion.RequestByOperationsAsync(tenant.OrganizationId, name, false, CancellationToken.None)).Outcome);
        var accepted = await deletion.RequestByOperationsAsync(tenant.OrganizationId, name, true, CancellationToken.None);
        var rerun = await deletion.RequestByOperationsAsync(tenant.OrganizationId, name, false, CancellationToken.None);

        Assert.Equal(OrganizationDeletionOutcome.Accepted, accepted.Outcome);
        Assert.Equal(OrganizationDeletionOutcome.AlreadyDeleted, rerun.Outcome);
        Assert.Equal(OrganizationDeletion.Operations, rerun.Tombstone!.DeletedBy);
        Assert.True(await factory.WithDirectoryAsync(db => db.AuditEntries.AnyAsync(e => e.OrganizationId == tenant.OrganizationId
            && e.Action == AuditActions.OrganizationDeleted && e.Actor == OrganizationDeletion.Operations && e.Outcome == "success:legal-holds-overridden=1")));

        // A deleted organisation's id is never provisioned again: its keys are gone for good.
        var provisioning = scope.ServiceProvider.GetRequiredService<CloudStore.ControlPlane.Organizations.OrganizationProvisioning>();
        await Assert.ThrowsAsync<ArgumentException>(() => provisioning.CreateAsync("Again", $"again-{Guid.NewGuid():N}@decom.test", TestTenant.NewPassword(), CancellationToken.None, tenant.OrganizationId));
    }

    static Task<HttpResponseMessage> DeleteOrganizationAsync(HttpClient admin, string name, string code) =>
        admin.SendAsync(new HttpRequestMessage(HttpMethod.Delete, "/api/organization") { Content = JsonContent.Create(new DeleteOrganizationRequest(name, code)) });
}
