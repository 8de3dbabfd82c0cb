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

    /// <summary>
    /// A video file, cut as fast as ffmpeg can at its own frame rate, with its first audio stream as AAC. H.264
    /// with a key frame on every segment boundary is copied as it is (so it plays back frame for frame);
    /// anything else is re-encoded to H.264 with key frames forced there (<see cref="MediaProbe.IsGopAligned"/>).
    /// </summary>
    public sealed record File(string Path) : VideoSource;

    /// <summary>A folder ffmpeg already cut (fMP4 HLS with a playlist): uploaded as it is.</summary>
    public sealed record Folder(string PlaylistPath) : VideoSource;
}

/// <summary>The video source cannot be used: ffmpeg is missing, cannot read it, or failed while cutting it.</summary>
public sealed class VideoSourceException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Runs ffmpeg to cut H.264 fMP4 segments, GOP-aligned: one key frame every segment length
/// (<c>-g</c>, no scene-cut key frames), so each segment starts with one and plays on its own.
/// A file source that is already H.264 and GOP-aligned is copied instead of re-encoded.
/// </summary>
public static class Ffmpeg
{
    public const string Executable = "ffmpeg";
    const string Font = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf";

    /// <summary>Starts ffmpeg writing <c>out.m3u8</c>, <c>init.mp4</c> and <c>seg_NNNNNN.m4s</c> into <paramref name="folder"/>.</summary>
    public static async Task<Process> StartSegmentingAsync(VideoSource source, string folder, TimeSpan segmentLength, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        var start = new ProcessStartInfo(Executable)
        {
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        var arguments = new List<string> { "-hide_banner", "-nostats", "-loglevel", "error", "-y" };
        switch (source)
        {
            case VideoSource.Generated generated:
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
                arguments.AddRange(Encode(segmentLength, generated.FrameRate));
                break;
            case VideoSource.File file:
                var probe = await MediaProbe.ReadAsync(file.Path, cancellationToken);
                arguments.AddRange(["-i", file.Path, "-map", "0:v:0", "-map", "0:a:0?"]);
                arguments.AddRange(probe.AudioCodec == "aac" ? ["-c:a", "copy"] : ["-c:a", "aac", "-b:a", "128k"]);
                if (probe.IsGopAligned(segmentLength))
                {
                    arguments.AddRange(["-c:v", "copy"]);
                }
                else
                {
                    // Every frame kept at its own time (no frame-rate conversion), key frames forced on the boundaries.
                    arguments.AddRange(["-fps_mode", "passthrough", "-force_key_frames", Invariant($"expr:gte(t,n_forced*{segmentLength.TotalSeconds})")]);
                    arguments.AddRange(Encode(segmentLength, probe.FrameRate));
                }

                break;
            default:
                throw new ArgumentException("A folder source needs no ffmpeg run.", nameof(source));
        }

        arguments.AddRange([
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

        return Start(start);
    }

    /// <summary>H.264 main profile, one key frame per segment and none at scene cuts.</summary>
    static string[] Encode(TimeSpan segmentLength, double frameRate)
    {
        var gop = Math.Max(1, (int)Math.Round(segmentLength.TotalSeconds * frameRate));
        return [
            "-c:v", "libx264", "-preset", "veryfast", "-profile:v", "main", "-pix_fmt", "yuv420p",
            "-g", Invariant($"{gop}"), "-keyint_min", Invariant($"{gop}"), "-sc_threshold", "0", "-b:v", "1M",
        ];
    }

    /// <exception cref="VideoSourceException">The program is not installed.</exception>
    internal static Process Start(ProcessStartInfo start)
    {
        try
        {
            return Process.Start(start) ?? throw new VideoSourceException($"{start.FileName} did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new VideoSourceException($"{start.FileName} is not installed (Debian: apt-get install ffmpeg; ./cloudstore installs it when run as root).", e);
        }
    }

    /// <summary>Cuts a finite source completely and returns the playlist path.</summary>
    public static async Task<string> SegmentToFolderAsync(VideoSource source, string folder, TimeSpan segmentLength, CancellationToken cancellationToken)
    {
        using var process = await StartSegmentingAsync(source, folder, segmentLength, cancellationToken);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new VideoSourceException($"ffmpeg failed ({process.ExitCode}): {await errors}");
        }

        return Path.Combine(folder, "out.m3u8");
    }

    internal static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
