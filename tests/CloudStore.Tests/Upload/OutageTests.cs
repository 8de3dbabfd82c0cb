using System.Net.Http.Json;
using CloudStore.Contracts;
using CloudStore.Device.Media;
using CloudStore.Device.Upload;
using CloudStore.Tests.Infrastructure;
using Xunit;

namespace CloudStore.Tests.Upload;

/// <summary>The stream cache against real outages: storage (Azurite) stopped and started again, the uploader restarted.</summary>
public sealed class OutageTests(LocalCloudFixture stack, SourceVideoFixture video)
    : IClassFixture<LocalCloudFixture>, IClassFixture<SourceVideoFixture>, IDisposable
{
    readonly string _cache = Directory.CreateTempSubdirectory("cloudstore-cache-").FullName;

    [Fact]
    public async Task StorageDown_SegmentsMadeDuringTheOutage_UploadedAndIndexedExactlyOnceAfterIt()
    {
        using var tenant = await StackTenant.CreateAsync(stack.Cloud, Regions.AustraliaSydney);
        using var camera = await tenant.AddCameraAsync();
        using var uploader = UploadTestKit.Uploader(stack.Cloud, camera, _cache);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        // 15 two-second segments in real time: room for two to be made during the outage even when the first
        // index or stopping storage is slow on a loaded machine.
        const int segments = 15;
        var running = uploader.RunAsync(new VideoSource.Generated(Duration: TimeSpan.FromSeconds(2 * segments)), timeout.Token);

        await UploadTestKit.WaitUntilAsync(() => uploader.Stats.Indexed >= 1, "the first segment indexed", running);
        await stack.Cloud.StopStorageAsync();
        var queuedAtOutage = uploader.Stats.Queued;
        Assert.True(queuedAtOutage <= segments - 2, $"{queuedAtOutage} of {segments} segments were made before storage stopped");
        await UploadTestKit.WaitUntilAsync(() => uploader.Stats.Queued >= queuedAtOutage + 2, "two segments made during the outage", running);
        await stack.Cloud.StartStorageAsync(timeout.Token);
        await running;

        var rows = await new RegionInspector(stack.Cloud, Regions.AustraliaSydney).SegmentsAsync(camera.CameraId);
        Assert.Equal(segments, uploader.Stats.Queued);
        Assert.Equal(0, uploader.Stats.Dropped);
        Assert.Equal(Enumerable.Range(0, segments).Select(i => (long)i), rows.Select(r => r.Sequence));
    }

    [Fact]
    public async Task StorageDown_CacheOverflows_ExactlyTheSegmentsReportedDroppedAreMissing()
    {
        using var tenant = await StackTenant.CreateAsync(stack.Cloud, Regions.AustraliaSydney);
        using var camera = await tenant.AddCameraAsync();
        var segmentBytes = new FileInfo(video.Segments[1].SegmentPath).Length;
        using var uploader = UploadTestKit.Uploader(stack.Cloud, camera, _cache, cacheBytes: (long)(segmentBytes * 2.5));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var running = uploader.RunAsync(new VideoSource.Generated(Duration: TimeSpan.FromSeconds(16)), timeout.Token);

        await UploadTestKit.WaitUntilAsync(() => uploader.Stats.Indexed >= 1, "the first segment indexed", running);
        await stack.Cloud.StopStorageAsync();
        await UploadTestKit.WaitUntilAsync(() => uploader.Stats.Dropped >= 2, "the cache to overflow", running, seconds: 90);
        await stack.Cloud.StartStorageAsync(timeout.Token);
        await running;

        var rows = await new RegionInspector(stack.Cloud, Regions.AustraliaSydney).SegmentsAsync(camera.CameraId);
        var dropped = uploader.DroppedSequences;
        Assert.Equal(uploader.Stats.Dropped, dropped.Count);
        Assert.Equal(Enumerable.Range(0, 8).Select(i => (long)i).Except(dropped), rows.Select(r => r.Sequence));
    }

    [Fact]
    public async Task UploaderRestartedMidQueue_LosesNothingAndIndexesNothingTwice()
    {
        using var tenant = await StackTenant.CreateAsync(stack.Cloud, Regions.AustraliaSydney);
        using var camera = await tenant.AddCameraAsync();
        var cache = Path.Combine(_cache, "restart");
        using (var first = UploadTestKit.Uploader(stack.Cloud, camera, cache, bandwidth: 150_000))
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            var running = first.RunAsync(new VideoSource.Folder(video.Playlist), stop.Token);
            await UploadTestKit.WaitUntilAsync(() => first.Stats.Indexed >= 1 && first.Stats.Queued == video.Segments.Count, "one indexed, all queued", running);
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
            Assert.True(first.Stats.Indexed < video.Segments.Count, "the first run finished before it was stopped: slow it down");
        }

        using var second = UploadTestKit.Uploader(stack.Cloud, camera, cache);
        await second.RunAsync(new VideoSource.Folder(video.Playlist), new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);

        var rows = await new RegionInspector(stack.Cloud, Regions.AustraliaSydney).SegmentsAsync(camera.CameraId);
        Assert.Equal(Enumerable.Range(0, video.Segments.Count).Select(i => (long)i), rows.Select(r => r.Sequence));
        Assert.Equal(0, second.Stats.Queued);
    }

    [Fact]
    public async Task ManyCamerasInOneProcess_StorageDownThenBack_NoSegmentLost_StateStaysSmallWithNoSourcePaths()
    {
        using var tenant = await StackTenant.CreateAsync(stack.Cloud, Regions.AustraliaSydney);
        using var first = await tenant.AddCameraAsync();
        var cameraIds = new List<Guid> { first.CameraId };
        for (var channel = 2; channel <= 6; channel++)
        {
            // Cameras of one device, as `cloudstore-camera run --camera … --camera …` runs them: one client, one token.
            using var made = await tenant.Administrator.PostAsJsonAsync($"/api/devices/{first.Identity.DeviceId}/cameras", new CreateCameraRequest($"Channel {channel}", channel));
            var id = (await made.Content.ReadFromJsonAsync<CameraResponse>())!.Id;
            (await tenant.Administrator.PostAsync($"/api/cameras/{id}/enable", null)).EnsureSuccessStatusCode();
            cameraIds.Add(id);
        }

        var uploaders = cameraIds.Select(id => UploadTestKit.Uploader(stack.Cloud, first with { CameraId = id }, Path.Combine(_cache, id.ToString()))).ToList();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
        const int segments = 20;
        try
        {
            // In real time, so most segments are made while storage is down.
            var running = Task.WhenAll(uploaders.Select(u => u.RunAsync(new VideoSource.Generated(320, 180, Duration: TimeSpan.FromSeconds(2 * segments)), timeout.Token)));
            await UploadTestKit.WaitUntilAsync(() => uploaders.All(u => u.Stats.Indexed >= 1), "a first segment of every camera indexed", running);
            await stack.Cloud.StopStorageAsync();
            var queuedAtOutage = uploaders.Max(u => u.Stats.Queued);
            await UploadTestKit.WaitUntilAsync(() => uploaders.All(u => u.Stats.Queued == segments), "every segment of every camera made", running, seconds: 120);
            var indexedAtRecovery = uploaders.Select(u => u.Stats.Indexed).ToList();
            await stack.Cloud.StartStorageAsync(timeout.Token);
            await running;

            Assert.True(queuedAtOutage <= segments - 5, $"{queuedAtOutage} of {segments} segments were made before storage stopped");
            Assert.All(indexedAtRecovery, indexed => Assert.True(indexed < segments, "a camera uploaded everything during the outage"));
            var region = new RegionInspector(stack.Cloud, Regions.AustraliaSydney);
            foreach (var (uploader, id) in uploaders.Zip(cameraIds))
            {
                Assert.Equal(0, uploader.Stats.Dropped);
                Assert.Equal(Enumerable.Range(0, segments).Select(i => (long)i), (await region.SegmentsAsync(id)).Select(r => r.Sequence));
                var state = string.Concat(Directory.EnumerateFiles(Path.Combine(_cache, id.ToString()), "state.*").Select(File.ReadAllText));
                Assert.True(state.Length <= StreamCache.JournalLimitBytes + 2048, $"camera {id}: {state.Length} bytes of state");
                Assert.DoesNotContain(".m4s", state, StringComparison.Ordinal);
            }
        }
        finally
        {
            uploaders.ForEach(u => u.Dispose());
        }
    }

    public void Dispose() => Directory.Delete(_cache, recursive: true);
}
