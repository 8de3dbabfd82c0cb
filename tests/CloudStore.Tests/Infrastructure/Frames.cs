using System.Diagnostics;
using CloudStore.Device.Media;
using Xunit;

namespace CloudStore.Tests.Infrastructure;

/// <summary>What "exactly the recorded frames" means in the tests: ffmpeg's hash of every decoded frame, compared in order.</summary>
public static class Frames
{
    /// <summary>
    /// The MD5 of each decoded video frame, in order (ffmpeg <c>-f framemd5</c>, header lines and timestamps left out).
    /// An HLS playlist may name local key files and HTTPS segments.
    /// </summary>
    /// <remarks>Debian's ffmpeg (GnuTLS) does not verify server certificates unless told to, so it needs no CA here.</remarks>
    public static async Task<List<string>> HashesAsync(string input)
    {
        string[] hls = input.EndsWith(".m3u8", StringComparison.Ordinal) ? ["-allowed_extensions", "ALL", "-protocol_whitelist", "file,crypto,data,https,tls,tcp"] : [];
        var start = new ProcessStartInfo("ffmpeg") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string[])["-hide_banner", "-loglevel", "error", .. hls, "-i", input, "-map", "0:v:0", "-f", "framemd5", "-"])
        {
            start.ArgumentList.Add(argument);
        }

        using var ffmpeg = Process.Start(start)!;
        var output = ffmpeg.StandardOutput.ReadToEndAsync();
        var errors = ffmpeg.StandardError.ReadToEndAsync();
        await ffmpeg.WaitForExitAsync();
        Assert.True(ffmpeg.ExitCode == 0, $"ffmpeg on {input}: {await errors}");
        var frames = (await output).Split('\n').Where(l => l.Length > 0 && !l.StartsWith('#')).Select(l => l.Split(',')[^1].Trim()).ToList();
        Assert.NotEmpty(frames);
        return frames;
    }

    /// <summary>The camera's own (plaintext) files of those segments as one fragmented MP4 in <paramref name="folder"/>: what playback or an export must equal.</summary>
    public static async Task<string> SourceClipAsync(IReadOnlyList<SourceSegment> segments, string folder)
    {
        var path = Path.Combine(folder, $"source-{Guid.NewGuid():N}.mp4");
        await using var output = File.Create(path);
        foreach (var part in segments.Select(s => s.SegmentPath).Prepend(segments[0].InitPath))
        {
            await using var input = File.OpenRead(part);
            await input.CopyToAsync(output);
        }

        return path;
    }
}
