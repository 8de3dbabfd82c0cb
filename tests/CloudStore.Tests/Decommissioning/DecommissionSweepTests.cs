using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Decommissioning;
using CloudStore.ControlPlane.Recordings;
using CloudStore.ControlPlane.Regional;
using CloudStore.Device;
using CloudStore.LocalStack;
using CloudStore.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using Xunit;

namespace CloudStore.Tests.Decommissioning;

/// <summary>
/// Deleted cameras and organisations on the real stack: recordings uploaded by the reference camera to Azurite and to
/// the S3 server, deletions made over the stack's API (or operations' command), and the hourly sweep run in process on
/// the stack's own directory, indexes, storage and key server. Checked from outside: what storage and the indexes hold,
/// and what the key server and the API still give an attacker holding the deleted organisation's tokens and keys.
/// </summary>
public sealed class DecommissionSweepTests(LocalCloudFixture stack, SourceVideoFixture video)
    : IClassFixture<LocalCloudFixture>, IClassFixture<SourceVideoFixture>, IDisposable
{
    readonly string _work = Directory.CreateTempSubdirectory("cloudstore-decommission-").FullName;

    public static TheoryData<string> StorageKinds => [Regions.EuFrankfurt, Regions.UsVirginia];

    public void Dispose() => Directory.Delete(_work, recursive: true);

    static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));

    static DateTimeOffset End(SegmentRow row) => row.StartTime.AddMilliseconds(row.DurationMs);

    [Theory]
    [MemberData(nameof(StorageKinds))]
    public async Task CameraDeletedWithRecordings_SweepEmptiesStorageAndIndex_HeldRangeStaysUntilReleased_ThenTheCameraIsGone(string region)
    {
        var (tenant, camera, rows) = await DecommissionKit.RecordAsync(stack, video, _work, region);
        using var _ = tenant;
        using var __ = camera;
        var inspector = new RegionInspector(stack.Cloud, region);
        await using var host = DecommissionKit.SweepHost(stack);
        var storage = host.Services.GetRequiredService<RegionCatalog>().Storage(region);
        await DecommissionKit.PlantAsync(stack, storage, camera.CameraId, ["segments/999999999999.m4s"]);
        using var placed = await tenant.Administrator.PostAsJsonAsync($"/api/cameras/{camera.CameraId}/holds",
            new CreateLegalHoldRequest(rows[0].StartTime, rows[0].StartTime.AddMilliseconds(1), "CASE-DELETE-" + region));
        var hold = (await placed.Content.ReadFromJsonAsync<LegalHoldResponse>())!;

        using var deleted = await tenant.Administrator.DeleteAsync($"/api/cameras/{camera.CameraId}?recordings=delete");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        await DecommissionKit.SweepAsync(host);

        // Everything went at once, however young, except the held segment, which still plays.
        var kept = Assert.Single(await inspector.SegmentsAsync(camera.CameraId));
        Assert.Equal(rows[0].Sequence, kept.Sequence);
        var blobs = await inspector.BlobsAsync(camera.CameraId);
        Assert.All(rows.Skip(1), r => Assert.DoesNotContain(r.ObjectName, blobs.Keys));
        Assert.Contains(rows[0].ObjectName, blobs.Keys);
        Assert.Contains(rows[0].InitObjectName, blobs.Keys);
        var playlist = await tenant.Administrator.GetStringAsync($"/api/cameras/{camera.CameraId}/playlist.m3u8?from={Iso(rows[0].StartTime)}&to={Iso(End(rows[^1]))}");
        Assert.Equal(1, System.Text.RegularExpressions.Regex.Count(playlist, "#EXTINF:"));
        Assert.NotNull((await tenant.Administrator.GetFromJsonAsync<CameraResponse>($"/api/cameras/{camera.CameraId}"))!.DeletedAt);

        // Released, the next sweep takes the rest, the upload never indexed included, and then the camera itself.
        (await tenant.Administrator.PostAsync($"/api/cameras/{camera.CameraId}/holds/{hold.Id}/release", null)).EnsureSuccessStatusCode();
        await DecommissionKit.SweepAsync(host);

        Assert.Empty(await inspector.BlobsAsync(camera.CameraId));
        await using (var index = inspector.Index())
        {
            Assert.False(await index.Segments.AnyAsync(s => s.CameraId == camera.CameraId));
            Assert.False(await index.InitSegments.AnyAsync(i => i.CameraId == camera.CameraId));
            Assert.False(await index.WrappedKeys.AnyAsync(k => k.CameraId == camera.CameraId));
        }

        using var gone = await tenant.Administrator.GetAsync($"/api/cameras/{camera.CameraId}");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        var audited = await host.WithDirectoryAsync(db => db.AuditEntries.Where(e => e.Target == $"camera:{camera.CameraId}" && e.Actor == AuditLog.Scheduler)
            .Select(e => e.Action + " " + e.Outcome).ToListAsync());
        Assert.Contains($"{AuditActions.CameraPurged} success:unindexed-objects=1", audited);
        Assert.Contains(audited, a => a.StartsWith(AuditActions.RetentionSweep, StringComparison.Ordinal) && a.EndsWith(",camera-deleted", StringComparison.Ordinal));
        Assert.False(await host.WithDirectoryAsync(db => db.LegalHolds.AnyAsync(h => h.CameraId == camera.CameraId)));
    }

    [Fact]
    public async Task CameraDeletedKeepingRecordings_StaysListedAndPlayableUntilRetentionEnds_ThenSweptAndRemoved()
    {
        var (tenant, camera, rows) = await DecommissionKit.RecordAsync(stack, video, _work, Regions.UkLondon);
        using var _ = tenant;
        using var __ = camera;
        var inspector = new RegionInspector(stack.Cloud, Regions.UkLondon);
        await using var host = DecommissionKit.SweepHost(stack);

        using var deleted = await tenant.Administrator.DeleteAsync($"/api/cameras/{camera.CameraId}?recordings=keep");
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        await DecommissionKit.SweepAsync(host);

        Assert.Equal(rows.Count, (await inspector.SegmentsAsync(camera.CameraId)).Count);
        var listed = (await tenant.Administrator.GetFromJsonAsync<List<CameraOverviewResponse>>("/api/cameras"))!.Single(c => c.Id == camera.CameraId);
        Assert.Equal(RecordingsChoices.Keep, listed.RecordingsAfterDeletion);
        Assert.Equal(End(rows[^1]), listed.LastRecordingEnd);
        var timeline = await tenant.Administrator.GetFromJsonAsync<TimelineResponse>(
            $"/api/cameras/{camera.CameraId}/timeline?from={Iso(rows[0].StartTime)}&to={Iso(End(rows[^1]))}");
        Assert.NotEmpty(timeline!.Spans);

        // Past the 30-day retention, the ordinary sweep deletes them; with nothing left, the camera and its device row go.
        host.Clock.Advance(TimeSpan.FromDays(31));
        await DecommissionKit.SweepAsync(host);

        Assert.Empty(await inspector.SegmentsAsync(camera.CameraId));
        Assert.Empty(await inspector.BlobsAsync(camera.CameraId));
        Assert.False(await host.WithDirectoryAsync(db => db.Cameras.AnyAsync(c => c.Id == camera.CameraId)));
    }

    [Theory]
    [MemberData(nameof(StorageKinds))]
    public async Task OrganizationDeleted_FromTheAttackersSide_NoKeyUnwraps_NoTokenWorks_StorageIndexesAndDirectoryEmpty_NeighbourUntouched(string region)
    {
        var (victim, victimCamera, _) = await DecommissionKit.RecordAsync(stack, video, _work, region);
        var (neighbour, neighbourCamera, neighbourRows) = await DecommissionKit.RecordAsync(stack, video, _work, region);
        using var _ = victim;
        using var __ = victimCamera;
        using var ___ = neighbour;
        using var ____ = neighbourCamera;
        using var keyServer = stack.Client(stack.Cloud.KeyServerUrl);
        var victimKeyToken = await KeyServerTokenAsync(victim.AdministratorUser);
        var neighbourKeyToken = await KeyServerTokenAsync(neighbour.AdministratorUser);
        var victimKeys = await WrappedKeysAsync(region, victim.OrganizationId);
        var neighbourKeys = await WrappedKeysAsync(region, neighbour.OrganizationId);
        var neighbourBlobs = await new RegionInspector(stack.Cloud, region).BlobsAsync(neighbourCamera.CameraId);
        Assert.Equal(HttpStatusCode.OK, (await UnwrapAsync(keyServer, victimKeyToken, victimKeys[0])).StatusCode);

        var name = (await victim.Administrator.GetFromJsonAsync<OrganizationResponse>("/api/organization"))!.Name;
        using var request = new HttpRequestMessage(HttpMethod.Delete, "/api/organization")
        {
            Content = JsonContent.Create(new DeleteOrganizationRequest(name, await victim.AdministratorUser.NextCodeAsync(TimeProvider.System))),
        };
        using var deleted = await victim.Administrator.SendAsync(request);
        var answer = await deleted.Content.ReadFromJsonAsync<OrganizationDeletionResponse>();

        Assert.Equal(HttpStatusCode.Accepted, deleted.StatusCode);
        Assert.Equal(Regions.All.Order(), answer!.KeysDestroyedIn.Order());
        Assert.Empty(answer.KeysPendingIn);

        // From this moment: every unwrap of its keys refused, its tokens refused, its device refused.
        foreach (var key in victimKeys)
        {
            using var refused = await UnwrapAsync(keyServer, victimKeyToken, key);
            Assert.Equal(HttpStatusCode.Gone, refused.StatusCode);
        }

        using (var api = await victim.Administrator.GetAsync("/api/cameras"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
        }

        using (var refresh = await stack.Client(stack.Cloud.FunctionsUrl).PostAsJsonAsync("/api/auth/token", new RefreshRequest(victim.AdministratorUser.Tokens!.RefreshToken!, Audiences.Api)))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);
        }

        var device = await Assert.ThrowsAsync<DeviceRequestRefusedException>(() => new DeviceClient(victimCamera.Http, victimCamera.Key, TimeProvider.System)
            .AccessTokenAsync(victimCamera.Identity.DeviceId, victimCamera.Identity.AssertionAudience, CancellationToken.None));
        Assert.Equal(401, device.Status);

        // The sweep removes everything of it in every region; the directory keeps its tombstone and audit log only.
        await using var host = DecommissionKit.SweepHost(stack);
        await DecommissionKit.SweepAsync(host);

        foreach (var anyRegion in Regions.All)
        {
            var inspector = new RegionInspector(stack.Cloud, anyRegion);
            Assert.Empty(await inspector.BlobsAsync(victimCamera.CameraId));
            Assert.False(inspector.HasKeysOf(victim.OrganizationId), $"a key file in {anyRegion}");
            await using var index = inspector.Index();
            Assert.False(await index.Segments.AnyAsync(s => s.OrganizationId == victim.OrganizationId), $"segment rows in {anyRegion}");
            Assert.False(await index.InitSegments.AnyAsync(i => i.OrganizationId == victim.OrganizationId), $"init rows in {anyRegion}");
            Assert.False(await index.WrappedKeys.AnyAsync(k => k.OrganizationId == victim.OrganizationId), $"wrapped key rows in {anyRegion}");
        }

        if (region != Regions.UsVirginia)
        {
            Assert.False(await new RegionInspector(stack.Cloud, region).HasAnythingOfAsync(victimCamera.CameraId), "the camera's container");
        }

        Assert.Equal("{}", await DirectoryRowsOfAsync(host, victim.OrganizationId));
        var tombstone = await host.WithDirectoryAsync(db => db.OrganizationTombstones.SingleAsync(t => t.OrganizationId == victim.OrganizationId));
        Assert.NotNull(tombstone.PurgedAt);
        Assert.Equal(Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(name))), tombstone.NameSha256);
        var actions = await host.WithDirectoryAsync(db => db.AuditEntries.Where(e => e.OrganizationId == victim.OrganizationId).Select(e => e.Action).Distinct().ToListAsync());
        Assert.Superset(new HashSet<string> { AuditActions.OrganizationDeleted, AuditActions.OrganizationKeysDestroyed, AuditActions.OrganizationStorageCleared, AuditActions.OrganizationPurged, AuditActions.SignIn }, actions.ToHashSet());

        // The neighbour in the same region: every object, row and key as before.
        var neighbourInspector = new RegionInspector(stack.Cloud, region);
        Assert.Equal(neighbourRows.Select(r => r.Sequence), (await neighbourInspector.SegmentsAsync(neighbourCamera.CameraId)).Select(r => r.Sequence));
        Assert.Equal(neighbourBlobs, await neighbourInspector.BlobsAsync(neighbourCamera.CameraId));
        using var stillOpens = await UnwrapAsync(keyServer, neighbourKeyToken, neighbourKeys[0]);
        Assert.Equal(HttpStatusCode.OK, stillOpens.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await neighbour.Administrator.GetAsync("/api/cameras")).StatusCode);
    }

    [Fact]
    public async Task OrganizationDeleted_InterruptedAfterTheKeysAndMidDeletion_EachRunGoesOnFromItsStepUntilDone()
    {
        var (byOperations, camera, rows) = await DecommissionKit.RecordAsync(stack, video, _work, Regions.EuFrankfurt);
        var (keysPending, otherCamera, _) = await DecommissionKit.RecordAsync(stack, video, _work, Regions.EuFrankfurt);
        using var _1 = byOperations;
        using var _2 = camera;
        using var _3 = keysPending;
        using var _4 = otherCamera;
        var inspector = new RegionInspector(stack.Cloud, Regions.EuFrankfurt);
        var objects = (await inspector.BlobsAsync(camera.CameraId)).Count;

        // One is deleted while the key server cannot be reached: nothing of it may be deleted until its keys are destroyed.
        await using (var cut = DecommissionKit.SweepHost(stack, ("KeyServer:Url", "https://127.0.0.1:9/")))
        await using (var scope = cut.Services.CreateAsyncScope())
        {
            var result = await scope.ServiceProvider.GetRequiredService<OrganizationDeletion>()
                .RequestByOperationsAsync(keysPending.OrganizationId, "Stack test", deleteHeld: false, CancellationToken.None);
            Assert.Equal(Regions.All.Count, DecommissionEndpoints.ToResponse(result.Tombstone!).KeysPendingIn.Count);
            await scope.ServiceProvider.GetRequiredService<DecommissionSweep>().SweepOrganizationsAsync(CancellationToken.None);
            Assert.Equal(rows.Count, (await inspector.SegmentsAsync(otherCamera.CameraId)).Count);
        }

        // Operations deletes the other: its keys are destroyed, and nothing else has happened yet (as if the host stopped there).
        var output = await Demo.RunFunctionsCommandAsync(stack.Cloud,
            ["delete-organization", "--organization", byOperations.OrganizationId.ToString(), "--confirm-name", "Stack test"], CancellationToken.None);
        using (var printed = JsonDocument.Parse(output))
        {
            Assert.Equal(Regions.All.Count, printed.RootElement.GetProperty("keysDestroyedIn").GetArrayLength());
        }

        Assert.Equal(objects, (await inspector.BlobsAsync(camera.CameraId)).Count);

        // Sweeps that may delete only a few objects each: each run goes on where the last one stopped.
        await using var host = DecommissionKit.SweepHost(stack, ("Retention:MaxObjectsPerDeletionPerRun", "3"));
        var runs = 0;
        while (await host.WithDirectoryAsync(db => db.OrganizationTombstones
            .AnyAsync(t => (t.OrganizationId == byOperations.OrganizationId || t.OrganizationId == keysPending.OrganizationId) && t.PurgedAt == null)))
        {
            Assert.True(++runs <= 2 * objects, $"not done after {runs - 1} runs");
            await using var scope = host.Services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<DecommissionSweep>().SweepOrganizationsAsync(CancellationToken.None);
            if (runs == 1)
            {
                // Mid-deletion: some objects gone, the directory still whole, the index rows of unfinished cameras still there.
                Assert.InRange((await inspector.BlobsAsync(camera.CameraId)).Count, 0, objects - 3);
                Assert.True(await host.WithDirectoryAsync(db => db.Organizations.AnyAsync(o => o.Id == byOperations.OrganizationId)));
            }
        }

        Assert.True(runs > 2, $"{runs} runs: the budget did not bound them");
        foreach (var (organizationId, cameraId) in new[] { (byOperations.OrganizationId, camera.CameraId), (keysPending.OrganizationId, otherCamera.CameraId) })
        {
            Assert.Empty(await inspector.BlobsAsync(cameraId));
            Assert.Empty(await inspector.SegmentsAsync(cameraId));
            Assert.False(inspector.HasKeysOf(organizationId));
            Assert.Equal("{}", await DirectoryRowsOfAsync(host, organizationId));
        }
    }

    async Task<string> KeyServerTokenAsync(TestUser administrator)
    {
        using var functions = stack.Client(stack.Cloud.FunctionsUrl);
        using var response = await functions.PostAsJsonAsync("/api/auth/token", new RefreshRequest(administrator.Tokens!.RefreshToken!, Audiences.KeyServer));
        var tokens = (await response.Content.ReadFromJsonAsync<TokenResponse>())!;
        administrator.Tokens = administrator.Tokens with { RefreshToken = tokens.RefreshToken };
        return tokens.AccessToken;
    }

    async Task<List<WrappedKeyRow>> WrappedKeysAsync(string region, Guid organizationId)
    {
        await using var index = new RegionInspector(stack.Cloud, region).Index();
        var keys = await index.WrappedKeys.Where(k => k.OrganizationId == organizationId).ToListAsync();
        Assert.NotEmpty(keys);
        return keys;
    }

    static async Task<HttpResponseMessage> UnwrapAsync(HttpClient keyServer, string token, WrappedKeyRow key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/keys/{key.KeyId:N}?wrapped={Base64UrlEncoder.Encode(key.Wrapped)}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await keyServer.SendAsync(request);
    }

    /// <summary>Every directory row that names the organisation, its people, devices or cameras, by table ("{}" when none).</summary>
    static Task<string> DirectoryRowsOfAsync(FunctionsFactory host, Guid organizationId) => host.WithDirectoryAsync(async db =>
    {
        var people = db.Users.Where(u => u.OrganizationId == organizationId).Select(u => u.Id);
        var devices = db.Devices.Where(d => d.OrganizationId == organizationId).Select(d => d.Id);
        var counts = new Dictionary<string, int>
        {
            ["organizations"] = await db.Organizations.CountAsync(o => o.Id == organizationId),
            ["users"] = await people.CountAsync(),
            ["userTokens"] = await db.UserTokens.CountAsync(t => people.Contains(t.UserId)),
            ["refreshTokens"] = await db.RefreshTokens.CountAsync(t => people.Contains(t.UserId)),
            ["usedTotpSteps"] = await db.UsedTotpSteps.CountAsync(t => people.Contains(t.UserId)),
            ["devices"] = await devices.CountAsync(),
            ["usedAssertions"] = await db.UsedAssertions.CountAsync(u => devices.Contains(u.DeviceId)),
            ["cameras"] = await db.Cameras.CountAsync(c => c.OrganizationId == organizationId),
            ["licences"] = await db.Licences.CountAsync(l => l.OrganizationId == organizationId),
            ["holds"] = await db.LegalHolds.CountAsync(h => h.OrganizationId == organizationId),
            ["notifications"] = await db.Notifications.CountAsync(n => n.OrganizationId == organizationId),
        };
        return JsonSerializer.Serialize(counts.Where(c => c.Value > 0).ToDictionary());
    });
}
