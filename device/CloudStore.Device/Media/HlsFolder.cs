using System.Globalization;

namespace CloudStore.Device.Media;

/// <summary>One media segment ffmpeg finished, with the init segment it plays with and its wall-clock start.</summary>
public sealed record SourceSegment(string InitPath, string SegmentPath, DateTimeOffset StartTime, TimeSpan Duration);

/// <summary>
/// Reads an fMP4 HLS folder as ffmpeg writes it (<c>-hls_segment_type fmp4 -hls_flags program_date_time</c>):
/// the playlist lists a segment only once it is complete, so what the playlist names can be taken.
/// </summary>
public static class HlsFolder
{
    public static IReadOnlyList<SourceSegment> ReadCompleted(string playlistPath)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(playlistPath))!;
        string[] lines;
        try
        {
            using var stream = new FileStream(playlistPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var reader = new StreamReader(stream);
            lines = reader.ReadToEnd().Split('\n', StringSplitOptions.TrimEntries);
        }
        catch (FileNotFoundException)
        {
            return [];
        }

        var segments = new List<SourceSegment>();
        string? init = null;
        DateTimeOffset? start = null;
        TimeSpan? duration = null;
        foreach (var line in lines)
        {
            if (line.StartsWith("#EXT-X-MAP:", StringComparison.Ordinal))
            {
                init = Path.Combine(folder, Attribute(line, "URI") ?? throw new FormatException("EXT-X-MAP without URI."));
            }
            else if (line.StartsWith("#EXT-X-PROGRAM-DATE-TIME:", StringComparison.Ordinal))
            {
                start = DateTimeOffset.Parse(line["#EXT-X-PROGRAM-DATE-TIME:".Length..], CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("#EXTINF:", StringComparison.Ordinal))
            {
                var seconds = line["#EXTINF:".Length..].Split(',')[0];
                duration = TimeSpan.FromSeconds(double.Parse(seconds, CultureInfo.InvariantCulture));
            }
            else if (line.Length > 0 && !line.StartsWith('#') && duration is { } length)
            {
                if (init is null || start is null)
                {
                    throw new FormatException("A segment without EXT-X-MAP or EXT-X-PROGRAM-DATE-TIME: run ffmpeg with -hls_segment_type fmp4 -hls_flags program_date_time.");
                }

                segments.Add(new SourceSegment(init, Path.Combine(folder, line), start.Value, length));
                start += length;
                duration = null;
            }
        }

        return segments;
    }

    static string? Attribute(string line, string name)
    {
        var at = line.IndexOf(name + "=\"", StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var begin = at + name.Length + 2;
        var end = line.IndexOf('"', begin);
        return end < 0 ? null : line[begin..end];
    }
}
