using System.CommandLine.Parsing;
using CloudStore.Device.Media;

namespace CloudStore.Camera;

/// <summary><c>--source generated|file:PATH|folder:PLAYLIST</c>, checked before anything is sent.</summary>
static class SourceArgument
{
    public static VideoSource? Parse(ArgumentResult result)
    {
        var text = result.Tokens.Single().Value;
        if (text == "generated")
        {
            return new VideoSource.Generated();
        }

        if (text.StartsWith("file:", StringComparison.Ordinal))
        {
            var path = text["file:".Length..];
            if (File.Exists(path))
            {
                return new VideoSource.File(path);
            }

            result.AddError($"--source {text}: no such file.");
            return null;
        }

        if (text.StartsWith("folder:", StringComparison.Ordinal))
        {
            return Folder(result, text, text["folder:".Length..]);
        }

        result.AddError($"--source {text}: not a source; use generated, file:PATH or folder:PLAYLIST.");
        return null;
    }

    /// <summary>A folder source must name a playlist ffmpeg wrote whose files are all there.</summary>
    static VideoSource.Folder? Folder(ArgumentResult result, string text, string path)
    {
        if (Directory.Exists(path))
        {
            var playlists = Directory.GetFiles(path, "*.m3u8");
            if (playlists.Length != 1)
            {
                result.AddError($"--source {text}: the folder holds {playlists.Length} playlists (.m3u8); name the one to upload (folder:DIR/NAME.m3u8).");
                return null;
            }

            path = playlists[0];
        }

        if (!File.Exists(path))
        {
            result.AddError($"--source {text}: no such playlist or folder.");
            return null;
        }

        IReadOnlyList<SourceSegment> segments;
        try
        {
            segments = HlsFolder.ReadCompleted(path);
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            result.AddError($"--source {text}: cannot be read as an fMP4 HLS playlist: {e.Message}");
            return null;
        }

        if (segments.Count == 0)
        {
            result.AddError($"--source {text}: the playlist lists no segments.");
            return null;
        }

        if (segments.SelectMany(s => new[] { s.InitPath, s.SegmentPath }).Distinct().FirstOrDefault(f => !File.Exists(f)) is { } missing)
        {
            result.AddError($"--source {text}: {missing}, named in the playlist, is missing.");
            return null;
        }

        return new VideoSource.Folder(path);
    }

    /// <summary>Asks ffprobe whether the file is video it can read, before anything is sent.</summary>
    /// <exception cref="UsageException">It is not.</exception>
    public static async Task CheckAsync(VideoSource.File file, CancellationToken cancellationToken)
    {
        try
        {
            await MediaProbe.ReadAsync(file.Path, cancellationToken);
        }
        catch (VideoSourceException e)
        {
            throw new UsageException($"--source file:{e.Message}"); // The message starts with the path.
        }
    }
}
