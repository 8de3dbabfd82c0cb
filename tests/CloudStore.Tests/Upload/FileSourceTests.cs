using System.Diagnostics;
using CloudStore.Contracts;
using CloudStore.Contracts.Envelope;
using CloudStore.Device.Media;
using CloudStore.Tests.Infrastructure;
using Xunit;

namespace CloudStore.Tests.Upload;

/// <summary>
/// <c>--source file:</c> on the real stack: a video file uploaded, indexed, downloaded and decrypted plays back
/// as it was recorded: its frame rate, its audio and, when it could be copied, the very same frames.
/// </summary>
public sealed class FileSourceTests(LocalCloudFixture stack) : IClassFixture<LocalCloudFixture>, IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("cloudstore-file-source-").FullName;

    [Fact]
    public async Task Upload_GopAlignedH264WithAac_DecryptedRecordingHasTheSameFramesAndAudio()
    {
        // 30 fps with a key frame every 2 s, the segment length: copied without re-encoding.
        var source = await MakeVideoAsync("aligned.mp4", ["-c:v", "libx264", "-g", "60", "-keyint_min", "60", "-sc_threshold", "0", "-c:a", "aac"]);

        var recording = await UploadAndDownloadAsync(source);

        Assert.Equal(await Frames.HashesAsync(source), await Frames.HashesAsync(recording));
        Assert.Equal(("30/1", "aac"), await StreamsAsync(recording));
    }

    [Fact]
    public async Task Upload_KeyFramesOffTheSegmentBoundariesAndMp3Audio_ReEncodedKeepingEveryFrameTheRateAndTheAudio()
    {
        // A key frame every 2.5 s cannot start 2-second segments: the video is re-encoded, the MP3 converted to AAC.
        var source = await MakeVideoAsync("unaligned.mkv", ["-c:v", "libx264", "-g", "75", "-keyint_min", "75", "-sc_threshold", "0", "-c:a", "libmp3lame"]);

        var recording = await UploadAndDownloadAsync(source);

        Assert.Equal((await Frames.HashesAsync(source)).Count, (await Frames.HashesAsync(recording)).Count);
        Assert.Equal(("30/1", "aac"), await StreamsAsync(recording));
    }

    /// <summary>Six seconds of 30 fps test pattern with a tone.</summary>
    async Task<string> MakeVideoAsync(string name, string[] codecs)
    {
        var path = Path.Combine(_folder, name);
        await RunAsync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
            "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "6", .. codecs, "-pix_fmt", "yuv420p", path]);
        return path;
    }

    /// <summary>Uploads the file as a camera, then rebuilds the recording from what storage and the index hold.</summary>
    async Task<string> UploadAndDownloadAsync(string source)
    {
        using var tenant = await StackTenant.CreateAsync(stack.Cloud, Regions.EuFrankfurt);
        using var camera = await tenant.AddCameraAsync();
        using (var uploader = UploadTestKit.Uploader(stack.Cloud, camera, Path.Combine(_folder, "cache")))
        {
            await uploader.RunAsync(new VideoSource.File(source), new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);
        }

        var frankfurt = new RegionInspector(stack.Cloud, Regions.EuFrankfurt);
        var rows = await frankfurt.SegmentsAsync(camera.CameraId);
        Assert.Equal([2000, 2000, 2000], rows.Select(r => r.DurationMs));
        await using var index = frankfurt.Index();
        var init = index.InitSegments.Single(s => s.CameraId == camera.CameraId);
        var recording = Path.Combine(_folder, Path.GetFileNameWithoutExtension(source) + "-recording.mp4");
        await using (var file = File.Create(recording))
        {
            var initKey = await frankfurt.UnwrapAsync(camera.CameraId, init.KeyId);
            await file.WriteAsync(SegmentCipher.Decrypt(await frankfurt.DownloadAsync(camera.CameraId, init.ObjectName), initKey.Key, init.Iv));
            foreach (var row in rows)
            {
                var key = await frankfurt.UnwrapAsync(camera.CameraId, row.KeyId);
                await file.WriteAsync(SegmentCipher.Decrypt(await frankfurt.DownloadAsync(camera.CameraId, row.ObjectName), key.Key, row.Iv));
            }
        }

        return recording;
    }

    /// <summary>The video's frame rate and the first audio stream's codec.</summary>
    static async Task<(string FrameRate, string AudioCodec)> StreamsAsync(string path)
    {
        var rate = await RunAsync("ffprobe", ["-v", "error", "-select_streams", "v:0", "-show_entries", "stream=r_frame_rate", "-of", "csv=p=0", path]);
        var audio = await RunAsync("ffprobe", ["-v", "error", "-select_streams", "a:0", "-show_entries", "stream=codec_name", "-of", "csv=p=0", path]);
        return (rate.Trim(), audio.Trim());
    }

    static async Task<string> RunAsync(string program, string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)}: {await errors}");
        return await output;
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
