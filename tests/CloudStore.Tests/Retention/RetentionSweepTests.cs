using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using CloudStore.Contracts;
using CloudStore.Contracts.Envelope;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Recordings;
using CloudStore.ControlPlane.Regional;
using CloudStore.ControlPlane.Retention;
using CloudStore.Device.Media;
using CloudStore.Tests.Infrastructure;
using CloudStore.Tests.Upload;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudStore.Tests.Retention;

/// <summary>
/// The retention sweep on the real stack: real segments uploaded by the reference camera to Azurite (account
/// key and Entra ID) and to the S3 server, settings and holds made over the stack's API. The stack's functions
/// host runs on the real clock, so the sweep runs here, in process, on the stack's own directory, indexes
/// and storage, with a clock the test moves forward.
/// </summary>
public sealed class RetentionSweepTests(LocalCloudFixture stack, SourceVideoFixture video)
    : IClassFixture<LocalCloudFixture>, IClassFixture<SourceVideoFixture>, IDisposable
{
    readonly string _work = Directory.CreateTempSubdirectory("cloudstore-retention-").FullName;

    public static TheoryData<string> StorageKinds => [Regions.EuFrankfurt, Regions.UkLondon, Regions.UsVirginia];

    public void Dispose() => Directory.Delete(_work, recursive: true);

    /// <summary>The control plane in process on the stack's configuration, its clock movable.</summary>
    FunctionsFactory SweepHost(int? maxSegmentsPerRun = null)
    {
        var factory = new FunctionsFactory();
        if (maxSegmentsPerRun is { } max)
        {
            factory.With("Retention:MaxSegmentsPerCameraPerRun", max.ToString(CultureInfo.InvariantCulture));
        }

        foreach (var (key, value) in stack.Cloud.FunctionsSettings())
        {
            factory.With(key.Replace("__", ":", StringComparison.Ordinal), value);
        }

        return factory.With("Tls:CaCertificateFile", stack.Cloud.Certificates.CaCertificate);
    }

    static async Task<RetentionSweep.CameraResult> SweepCameraAsync(FunctionsFactory host, string region, Guid cameraId, int days, IReadOnlyCollection<HeldRange>? holds = null)
    {
        await using var scope = host.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RetentionSweep>()
            .SweepCameraAsync(region, cameraId, host.Clock.GetUtcNow(), days, holds ?? [], CancellationToken.None);
    }

    /// <summary>Stops the host's clock at <paramref name="instant"/>, so a cutoff does not move on between two sweeps.</summary>
    static void SetClock(FunctionsFactory host, DateTimeOffset instant)
    {
        host.Clock.Freeze();
        host.Clock.Advance(instant - host.Clock.GetUtcNow());
    }

    async Task<(StackTenant Tenant, Guid CameraId, List<SegmentRow> Rows)> RecordAsync(string region)
    {
        var tenant = await StackTenant.CreateAsync(stack.Cloud, region);
        using var camera = await tenant.AddCameraAsync();
        using (var uploader = UploadTestKit.Uploader(stack.Cloud, camera, Path.Combine(_work, camera.CameraId.ToString("N"))))
        {
            await uploader.RunAsync(new VideoSource.Folder(video.Playlist), new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);
        }

        var rows = await new RegionInspector(stack.Cloud, region).SegmentsAsync(camera.CameraId);
        Assert.Equal(video.Segments.Count, rows.Count);
        return (tenant, camera.CameraId, rows);
    }

    static DateTimeOffset End(SegmentRow row) => row.StartTime.AddMilliseconds(row.DurationMs);

    static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));

    [Theory]
    [MemberData(nameof(StorageKinds))]
    public async Task Sweep_MovedClock_OldSegmentsGoneFromStorageAndIndex_YoungAndHeldKept_KeptRangeStillPlays(string region)
    {
        var (tenant, cameraId, rows) = await RecordAsync(region);
        using var _ = tenant;
        var inspector = new RegionInspector(stack.Cloud, region);
        using (var retention = await tenant.Administrator.PutAsJsonAsync($"/api/cameras/{cameraId}/retention", new CameraRetentionRequest(1)))
        {
            Assert.Equal(HttpStatusCode.OK, retention.StatusCode);
        }

        using var placed = await tenant.Administrator.PostAsJsonAsync($"/api/cameras/{cameraId}/holds",
            new CreateLegalHoldRequest(rows[0].StartTime, rows[0].StartTime.AddMilliseconds(1), "CASE-" + region));
        var hold = (await placed.Content.ReadFromJsonAsync<LegalHoldResponse>())!;
        await using var host = SweepHost();

        // One day after the third segment ended: the first three are past a one-day retention, the first is held.
        SetClock(host, End(rows[2]).AddDays(1));
        await using (var scope = host.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<RetentionSweep>().RunAsync(CancellationToken.None);
        }

        var kept = await inspector.SegmentsAsync(cameraId);
        Assert.Equal([rows[0].Sequence, .. rows.Skip(3).Select(r => r.Sequence)], kept.Select(r => r.Sequence));
        var blobs = await inspector.BlobsAsync(cameraId);
        Assert.DoesNotContain(rows[1].ObjectName, blobs.Keys);
        Assert.DoesNotContain(rows[2].ObjectName, blobs.Keys);
        Assert.All(kept, r => Assert.Contains(r.ObjectName, blobs.Keys));
        var audited = await host.WithDirectoryAsync(db => db.AuditEntries
            .Where(e => e.Action == AuditActions.RetentionSweep && e.Actor == AuditLog.Scheduler && e.Target == $"camera:{cameraId}").Select(e => e.Outcome).ToListAsync());
        Assert.StartsWith("success:segments=2,", Assert.Single(audited), StringComparison.Ordinal);

        // The kept range still plays: every segment and init segment of its playlist is in storage.
        var playlist = await tenant.Administrator.GetStringAsync($"/api/cameras/{cameraId}/playlist.m3u8?from={Iso(rows[0].StartTime)}&to={Iso(End(rows[^1]))}");
        Assert.Equal(kept.Count, Regex.Count(playlist, "#EXTINF:"));
        using var http = new HttpClient(TrustedHttp.CreateHandler(stack.Cloud.Certificates.CaCertificate));
        var urls = Regex.Matches(playlist, "(?m)^(https://\\S+)$|#EXT-X-MAP:URI=\"([^\"]+)\"").Select(m => m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value).ToList();
        Assert.True(urls.Count > kept.Count, playlist);
        foreach (var url in urls)
        {
            using var read = await http.GetAsync(url);
            Assert.True(read.StatusCode == HttpStatusCode.OK, $"{(int)read.StatusCode} reading a kept object");
        }

        // The hold shows on the timeline; released, its segment goes at the next sweep.
        var timeline = await tenant.Administrator.GetFromJsonAsync<TimelineResponse>($"/api/cameras/{cameraId}/timeline?from={Iso(rows[0].StartTime.AddMinutes(-1))}&to={Iso(End(rows[^1]).AddMinutes(1))}");
        Assert.Equal(hold.Id, Assert.Single(timeline!.Holds!).Id);
        (await tenant.Administrator.PostAsync($"/api/cameras/{cameraId}/holds/{hold.Id}/release", null)).EnsureSuccessStatusCode();
        await using (var scope = host.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<RetentionSweep>().RunAsync(CancellationToken.None);
        }

        Assert.Equal(rows.Skip(3).Select(r => r.Sequence), (await inspector.SegmentsAsync(cameraId)).Select(r => r.Sequence));

        // Two days on, everything has expired: the camera's storage and index end empty, init segment and keys included.
        SetClock(host, TimeProvider.System.GetUtcNow().AddDays(2));
        var last = await SweepCameraAsync(host, region, cameraId, 1);
        Assert.Equal(rows.Count - 3, last.Segments);
        Assert.True(last.InitSegments >= 1 && last.WrappedKeys >= 1, last.ToString());
        Assert.Empty(await inspector.BlobsAsync(cameraId));
        await using var index = inspector.Index();
        Assert.False(await index.Segments.AnyAsync(s => s.CameraId == cameraId));
        Assert.False(await index.InitSegments.AnyAsync(s => s.CameraId == cameraId));
        Assert.False(await index.WrappedKeys.AnyAsync(k => k.CameraId == cameraId));
    }

    [Theory]
    [InlineData(Regions.EuFrankfurt)]
    [InlineData(Regions.UsVirginia)]
    public async Task Sweep_CrashBetweenStorageDeleteAndIndexDelete_NextRunEndsConsistent(string region)
    {
        var (tenant, cameraId, rows) = await RecordAsync(region);
        using var _ = tenant;
        var inspector = new RegionInspector(stack.Cloud, region);
        await using var host = SweepHost();
        SetClock(host, End(rows[1]).AddDays(7));

        // What a sweep that crashed after its storage delete leaves: the objects gone, their rows still indexed.
        var storage = host.Services.GetRequiredService<RegionCatalog>().Storage(region);
        await storage.DeleteAsync(cameraId, [rows[0].ObjectName, rows[1].ObjectName], CancellationToken.None);
        Assert.Equal(rows.Count, (await inspector.SegmentsAsync(cameraId)).Count);
        Assert.DoesNotContain(rows[0].ObjectName, (await inspector.BlobsAsync(cameraId)).Keys);

        var next = await SweepCameraAsync(host, region, cameraId, 7);
        var again = await SweepCameraAsync(host, region, cameraId, 7);

        Assert.Equal(2, next.Segments);
        Assert.Equal(0, again.Segments);
        Assert.Equal(rows.Skip(2).Select(r => r.Sequence), (await inspector.SegmentsAsync(cameraId)).Select(r => r.Sequence));

        // Consistent: every object in storage has its index row, and every index row its object.
        await using var index = inspector.Index();
        var indexed = new SortedSet<string>(StringComparer.Ordinal);
        indexed.UnionWith(await index.Segments.Where(s => s.CameraId == cameraId).Select(s => s.ObjectName).ToListAsync());
        indexed.UnionWith(await index.InitSegments.Where(i => i.CameraId == cameraId).Select(i => i.ObjectName).ToListAsync());
        indexed.UnionWith((await index.WrappedKeys.Where(k => k.CameraId == cameraId).Select(k => k.KeyId).ToListAsync()).Select(WrappedKey.ObjectName));
        Assert.Equal(indexed, (await inspector.BlobsAsync(cameraId)).Keys);
    }

    [Theory]
    [InlineData(Regions.EuFrankfurt)]
    [InlineData(Regions.UsVirginia)]
    public async Task Sweep_TwoAtOnce_EachSegmentDeletedAndCountedOnce_NoError(string region)
    {
        var (tenant, cameraId, rows) = await RecordAsync(region);
        using var _ = tenant;
        var inspector = new RegionInspector(stack.Cloud, region);
        await using var host = SweepHost();
        SetClock(host, TimeProvider.System.GetUtcNow().AddDays(31));

        var results = await Task.WhenAll(SweepCameraAsync(host, region, cameraId, 30), SweepCameraAsync(host, region, cameraId, 30));

        Assert.Equal(rows.Count, results.Sum(r => r.Segments));
        Assert.Equal(1, results.Sum(r => r.InitSegments));
        Assert.Empty(await inspector.BlobsAsync(cameraId));
        await using var index = inspector.Index();
        Assert.False(await index.Segments.AnyAsync(s => s.CameraId == cameraId));
        Assert.False(await index.WrappedKeys.AnyAsync(k => k.CameraId == cameraId));
    }

    [Fact]
    public async Task Sweep_MoreExpiredThanOneRunMayDelete_OldestFirstAndTheRestAtTheNextRuns()
    {
        var (tenant, cameraId, rows) = await RecordAsync(Regions.EuFrankfurt);
        using var _ = tenant;
        var inspector = new RegionInspector(stack.Cloud, Regions.EuFrankfurt);
        await using var host = SweepHost(maxSegmentsPerRun: 2);
        SetClock(host, TimeProvider.System.GetUtcNow().AddDays(31));

        var first = await SweepCameraAsync(host, Regions.EuFrankfurt, cameraId, 30);
        Assert.Equal(2, first.Segments);
        Assert.Equal(rows.Skip(2).Select(r => r.Sequence), (await inspector.SegmentsAsync(cameraId)).Select(r => r.Sequence));

        var deleted = first.Segments;
        for (var run = 0; run < rows.Count && deleted < rows.Count; run++)
        {
            var next = await SweepCameraAsync(host, Regions.EuFrankfurt, cameraId, 30);
            Assert.InRange(next.Segments, 1, 2);
            deleted += next.Segments;
        }

        Assert.Equal(rows.Count, deleted);
        Assert.Empty(await inspector.BlobsAsync(cameraId));
    }
}
