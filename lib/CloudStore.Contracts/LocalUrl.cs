namespace CloudStore.Contracts;

/// <summary>
/// The one check of a return URL (where a page sends the person once signed in): only a path on this site, never an
/// open redirect. A browser reads a link more loosely than a string comparison does: it drops tabs, line feeds and
/// carriage returns anywhere in it, takes a backslash for a slash, and a link may arrive percent-encoded once more
/// than expected. So every form the value takes when decoded (layer by layer), with those characters removed and
/// backslashes made slashes, must be a local path: one <c>/</c> followed by anything but a second <c>/</c>.
/// </summary>
public static class LocalUrl
{
    /// <summary>Where a person goes when no acceptable return URL was given.</summary>
    public const string Home = "/";

    /// <summary>Longer than any path of the player; beyond it a value is refused rather than decoded.</summary>
    const int MaxLength = 2048;

    /// <summary>Layers of percent-encoding unwrapped; a value still changing after these is refused.</summary>
    const int MaxDecodings = 3;

    /// <summary>True when every reading of <paramref name="url"/> a browser might make stays on this site.</summary>
    public static bool IsLocalPath(string? url)
    {
        if (string.IsNullOrEmpty(url) || url.Length > MaxLength)
        {
            return false;
        }

        var layer = url;
        for (var i = 0; i <= MaxDecodings; i++)
        {
            if (!IsLocalAsBrowserReadsIt(layer))
            {
                return false;
            }

            var decoded = Uri.UnescapeDataString(layer);
            if (string.Equals(decoded, layer, StringComparison.Ordinal))
            {
                return true;
            }

            layer = decoded;
        }

        return false;
    }

    /// <summary><paramref name="url"/> when it is a local path, else <see cref="Home"/>.</summary>
    public static string OrHome(string? url) => IsLocalPath(url) ? url! : Home;

    static bool IsLocalAsBrowserReadsIt(string value)
    {
        // Other control characters (and a leading space, which a browser trims) have no place in a path of ours.
        if (value.Any(c => char.IsControl(c) && c is not ('\t' or '\n' or '\r')))
        {
            return false;
        }

        var read = value.Replace("\t", "", StringComparison.Ordinal).Replace("\n", "", StringComparison.Ordinal)
            .Replace("\r", "", StringComparison.Ordinal).Replace('\\', '/');
        return read.StartsWith('/') && !read.StartsWith("//", StringComparison.Ordinal);
    }
}
