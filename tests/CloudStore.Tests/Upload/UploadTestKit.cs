using CloudStore.Contracts;
using CloudStore.Device.Upload;
using CloudStore.LocalStack;
using CloudStore.Tests.Infrastructure;

namespace CloudStore.Tests.Upload;

/// <summary>Builds uploaders for the stack with test-sized back-off, and waits for their counters.</summary>
public static class UploadTestKit
{
    public static CameraUploader Uploader(LocalCloud cloud, StackCamera camera, string cacheFolder, long cacheBytes = 512L * 1024 * 1024, long? bandwidth = null) => new(
        camera.Client, camera.Identity,
        new UploaderOptions
        {
            CameraId = camera.CameraId,
            CacheFolder = cacheFolder,
            CacheCapacityBytes = cacheBytes,
            BandwidthBytesPerSecond = bandwidth,
            SegmentLength = SourceVideoFixture.SegmentLength,
            BackoffBase = TimeSpan.FromMilliseconds(200),
            BackoffMax = TimeSpan.FromSeconds(1),
        },
        TrustedHttp.CreateHandler(cloud.Certificates.CaCertificate),
        TimeProvider.System);

    /// <summary>Waits until <paramref name="condition"/> holds, failing loudly after <paramref name="seconds"/>.</summary>
    public static async Task WaitUntilAsync(Func<bool> condition, string what, Task running, int seconds = 60)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(seconds);
        while (!condition())
        {
            if (running.IsFaulted)
            {
                await running;
            }

            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                throw new TimeoutException($"Waited {seconds} s for: {what}");
            }

            await Task.Delay(100);
        }
    }
}
