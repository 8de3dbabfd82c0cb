using System.Diagnostics;
using System.Globalization;

namespace CloudStore.Device.Media;

/// <summary>Where the camera's video comes from.</summary>
public abstract record VideoSource
{
    /// <summary>
    /// ffmpeg's testsrc2 pattern with the wall clock (UTC) burnt in. <paramref name="Duration"/> null runs until
    /// stopped. <paramref name="RealTime"/> paces it like a camera (one second of video a second); otherwise
    /// ffmpeg makes it as fast as it can.
    /// </summary>
    public sealed record Generated(int Width = 640, int Height = 360, int FrameRate = 25, TimeSpan? Duration = null, bool RealTime = true) : VideoSource;

    /// <summary>A video file, re-encoded to H.264 and cut as fast as ffmpeg can.</summary>
    public sealed record File(string Path) : VideoSource;

    /// <summary>A folder ffmpeg already cut (fMP4 HLS with a playlist): uploaded as it is.</summary>
    public sealed record Folder(string PlaylistPath) : VideoSource;
}

/// <summary>
/// Runs ffmpeg to cut H.264 fMP4 segments, GOP-aligned: one key frame every segment length
/// (<c>-g</c>, no scene-cut key frames), so each segment starts with one and plays on its own.
/// </summary>
public static class Ffmpeg
{
    public const string Executable = "ffmpeg";
    const string Font = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf";

    /// <summary>Starts ffmpeg writing <c>out.m3u8</c>, <c>init.mp4</c> and <c>seg_NNNNNN.m4s</c> into <paramref name="folder"/>.</summary>
    public static Process StartSegmenting(VideoSource source, string folder, TimeSpan segmentLength)
    {
        Directory.CreateDirectory(folder);
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        var arguments = new List<string> { "-hide_banner", "-nostats", "-loglevel", "error", "-y" };
        var frameRate = 25;
        switch (source)
        {
            case VideoSource.Generated generated:
                frameRate = generated.FrameRate;
                if (generated.RealTime)
                {
                    arguments.Add("-re");
                }

                arguments.AddRange(["-f", "lavfi", "-i", Invariant($"testsrc2=size={generated.Width}x{generated.Height}:rate={generated.FrameRate}")]);
                if (generated.Duration is { } duration)
                {
                    arguments.AddRange(["-t", Invariant($"{duration.TotalSeconds}")]);
                }

                // The clock is the frame's timestamp from the start time, so it agrees with the playlist's
                // EXT-X-PROGRAM-DATE-TIME whether ffmpeg runs in real time or faster.
                var font = System.IO.File.Exists(Font) ? $"fontfile={Font}:" : string.Empty;
                var epoch = TimeProvider.System.GetUtcNow().ToUnixTimeSeconds();
                arguments.AddRange(["-vf", Invariant($@"drawtext={font}text='%{{pts\:gmtime\:{epoch}}} UTC':fontsize=28:fontcolor=white:box=1:boxcolor=black@0.6:x=12:y=12")]);
                break;
            case VideoSource.File file:
                arguments.AddRange(["-i", file.Path, "-an", "-r", Invariant($"{frameRate}")]);
                break;
            default:
                throw new ArgumentException("A folder source needs no ffmpeg run.", nameof(source));
        }

        var gop = (int)Math.Round(segmentLength.TotalSeconds * frameRate);
        arguments.AddRange([
            "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-pix_fmt", "yuv420p",
            "-g", Invariant($"{gop}"), "-keyint_min", Invariant($"{gop}"), "-sc_threshold", "0", "-b:v", "1M",
            "-f", "hls", "-hls_time", Invariant($"{segmentLength.TotalSeconds}"), "-hls_list_size", "0",
            "-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4",
            "-hls_flags", "program_date_time+independent_segments",
            "-hls_segment_filename", Path.Combine(folder, "seg_%06d.m4s"),
            Path.Combine(folder, "out.m3u8"),
        ]);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        try
        {
            return Process.Start(start) ?? throw new InvalidOperationException("ffmpeg did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("ffmpeg is not installed (Debian: apt-get install ffmpeg; ./cloudstore installs it when run as root).", e);
        }
    }

    /// <summary>Cuts a finite source completely and returns the playlist path.</summary>
    public static async Task<string> SegmentToFolderAsync(VideoSource source, string folder, TimeSpan segmentLength, CancellationToken cancellationToken)
    {
        using var process = StartSegmenting(source, folder, segmentLength);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"ffmpeg failed ({process.ExitCode}): {await errors}");
        }

        return Path.Combine(folder, "out.m3u8");
    }

    static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
