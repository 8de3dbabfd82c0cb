using CloudStore.Contracts;
using CloudStore.Device.Media;
using CloudStore.Device.Upload;
using CloudStore.Tests.Infrastructure;
using CloudStore.Tests.Upload;
using Microsoft.Extensions.Logging;
using Xunit;

namespace CloudStore.Tests.Observability;

/// <summary>The uploader tells its operator about retries and drops, and never with a signed URL.</summary>
public sealed class UploaderLogTests(LocalCloudFixture stack, SourceVideoFixture video)
    : IClassFixture<LocalCloudFixture>, IClassFixture<SourceVideoFixture>, IDisposable
{
    readonly string _cache = Directory.CreateTempSubdirectory("cloudstore-cache-").FullName;

    [Fact]
    public async Task RunAsync_StorageDownAndCacheFull_LogsRetriesAndDropsWithoutSignatures()
    {
        using var tenant = await StackTenant.CreateAsync(stack.Cloud, Regions.AustraliaSydney);
        using var camera = await tenant.AddCameraAsync();
        var segmentBytes = new FileInfo(video.Segments[1].SegmentPath).Length;
        var log = new CapturingLogger();
        using var uploader = new CameraUploader(camera.Client, camera.Identity, new UploaderOptions
        {
            CameraId = camera.CameraId,
            CacheFolder = _cache,
            CacheCapacityBytes = (long)(segmentBytes * 2.5),
            SegmentLength = SourceVideoFixture.SegmentLength,
            BackoffBase = TimeSpan.FromMilliseconds(200),
            BackoffMax = TimeSpan.FromSeconds(1),
        }, TrustedHttp.CreateHandler(stack.Cloud.Certificates.CaCertificate), TimeProvider.System, log);
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var running = uploader.RunAsync(new VideoSource.Generated(Duration: TimeSpan.FromSeconds(16)), timeout.Token);

        await UploadTestKit.WaitUntilAsync(() => uploader.Stats.Indexed >= 1, "the first segment indexed", running);
        await stack.Cloud.StopStorageAsync();
        await UploadTestKit.WaitUntilAsync(() => uploader.Stats.Dropped >= 2 && log.Entries.Count(e => e.EventId.Id == 1001) >= 2, "retries and the cache to overflow", running, seconds: 90);
        await stack.Cloud.StartStorageAsync(timeout.Token);
        await running;

        var retries = log.Entries.Where(e => e.EventId.Id == 1001).ToList();
        Assert.All(retries, retry =>
        {
            Assert.Equal(LogLevel.Warning, retry.Level);
            Assert.Equal(camera.CameraId, retry.Values["CameraId"]);
            Assert.Equal("upload", retry.Values["Operation"]);
            // Storage refuses connections while it is down: the reason names that, not a URL. (An upload in flight as it
            // stops may be answered 503 by the emulator shutting down.)
            Assert.Contains(retry.Values["Reason"], new object[] { "HttpRequestException ConnectionError", "status 503" });
            Assert.True((long)retry.Values["DelayMs"]! >= 200);
        });
        Assert.Contains(retries, retry => (string)retry.Values["Reason"]! == "HttpRequestException ConnectionError");
        Assert.Equal(Enumerable.Range(1, 2), retries.Take(2).Select(r => (int)r.Values["Attempt"]!));
        Assert.Contains(log.Entries, e => e.EventId.Id == 1002 && (int)e.Values["Attempts"]! >= 2);

        var drops = log.Entries.Where(e => e.EventId.Id == 1003).ToList();
        Assert.Equal(uploader.DroppedSequences, drops.Select(d => (long)d.Values["Sequence"]!));
        Assert.All(drops, drop => Assert.Equal(LogLevel.Error, drop.Level));
        Assert.All(drops, drop => Assert.Contains("stream cache is full", drop.Message, StringComparison.Ordinal));

        Assert.All(log.Entries, entry =>
        {
            Assert.DoesNotContain("sig=", entry.AllText, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("X-Amz-Signature", entry.AllText, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("https://", entry.AllText, StringComparison.OrdinalIgnoreCase);
        });
    }

    public void Dispose() => Directory.Delete(_cache, recursive: true);
}
