using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace CloudStore.Device.Media;

/// <summary>
/// What ffprobe says of a video file that decides how it is cut: the video codec and frame rate, the first
/// audio stream's codec, and when the video's key frames fall (seconds from its first frame, from the
/// packets' flags: nothing is decoded).
/// </summary>
public sealed record MediaProbe(string VideoCodec, double FrameRate, string? AudioCodec, IReadOnlyList<double> KeyFrameTimes, double VideoEnd)
{
    public const string Executable = "ffprobe";

    /// <summary>How far from a boundary a key frame may be and still start the segment (well under a frame at 240 fps).</summary>
    const double Tolerance = 0.001;

    /// <summary>
    /// Whether the video can be copied into segments of <paramref name="segmentLength"/> as it is: H.264 with a
    /// key frame on every segment boundary, which is where ffmpeg's HLS muxer cuts when copying.
    /// </summary>
    public bool IsGopAligned(TimeSpan segmentLength)
    {
        if (VideoCodec != "h264" || KeyFrameTimes.Count == 0 || KeyFrameTimes[0] > Tolerance)
        {
            return false;
        }

        var length = segmentLength.TotalSeconds;
        var keyFrames = 0;
        for (var boundary = length; boundary < VideoEnd - Tolerance; boundary += length)
        {
            while (keyFrames < KeyFrameTimes.Count && KeyFrameTimes[keyFrames] < boundary - Tolerance)
            {
                keyFrames++;
            }

            if (keyFrames == KeyFrameTimes.Count || KeyFrameTimes[keyFrames] > boundary + Tolerance)
            {
                return false;
            }
        }

        return true;
    }

    /// <exception cref="VideoSourceException">ffprobe is missing, or the file is not a video it can read.</exception>
    public static async Task<MediaProbe> ReadAsync(string path, CancellationToken cancellationToken)
    {
        using var streams = JsonDocument.Parse(await RunAsync(path, ["-show_entries", "stream=codec_type,codec_name,avg_frame_rate,r_frame_rate", "-of", "json"], cancellationToken));
        var all = streams.RootElement.TryGetProperty("streams", out var list) ? list.EnumerateArray().ToList() : [];
        var video = all.FirstOrDefault(s => Text(s, "codec_type") == "video");
        if (video.ValueKind != JsonValueKind.Object)
        {
            throw new VideoSourceException($"{path}: no video stream.");
        }

        var audio = all.FirstOrDefault(s => Text(s, "codec_type") == "audio");
        var frameRate = Rate(Text(video, "avg_frame_rate")) ?? Rate(Text(video, "r_frame_rate")) ?? 25;

        // One line per video packet: "pts_time,flags" (flags holds K for a key frame).
        var packets = (await RunAsync(path, ["-select_streams", "v:0", "-show_entries", "packet=pts_time,flags", "-of", "csv=p=0"], cancellationToken))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split(','))
            .Where(fields => fields.Length >= 2 && double.TryParse(fields[0], NumberStyles.Float, CultureInfo.InvariantCulture, out _))
            .Select(fields => (Time: double.Parse(fields[0], CultureInfo.InvariantCulture), Key: fields[1].Contains('K', StringComparison.Ordinal)))
            .ToList();
        if (packets.Count == 0)
        {
            throw new VideoSourceException($"{path}: the video stream has no frames.");
        }

        var first = packets.Min(p => p.Time);
        var keyFrames = packets.Where(p => p.Key).Select(p => p.Time - first).Order().ToList();
        var end = packets.Max(p => p.Time) - first + (1 / frameRate);
        return new MediaProbe(Text(video, "codec_name") ?? "", frameRate, audio.ValueKind == JsonValueKind.Object ? Text(audio, "codec_name") : null, keyFrames, end);
    }

    static async Task<string> RunAsync(string path, string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(Executable) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])["-v", "error", .. arguments, path])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Ffmpeg.Start(start);
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new VideoSourceException($"{path}: not a video ffprobe can read ({(await errors).Trim()}).");
        }

        return output;
    }

    static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>An ffprobe rate such as <c>30000/1001</c>; null for <c>0/0</c>.</summary>
    static double? Rate(string? text)
    {
        var parts = text?.Split('/');
        return parts is [var numerator, var denominator]
            && double.TryParse(numerator, NumberStyles.Float, CultureInfo.InvariantCulture, out var n)
            && double.TryParse(denominator, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && n > 0 && d > 0
            ? n / d
            : null;
    }
}
