using System.Text.RegularExpressions;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Recordings;

namespace CloudStore.Tests.Infrastructure;

/// <summary>
/// The data keys a CloudStore playlist names, read as the player reads them: one <see cref="HlsPlaylist.KeyTag"/> per
/// data key with the wrapped key (and a viewer's live grant), key tags that name only the key's address.
/// </summary>
public static partial class PlaylistKeys
{
    /// <summary>A data key's tag.</summary>
    /// <param name="Uri">The address the key tags name.</param>
    public sealed record Key(string Uri, string Wrapped, string? Grant)
    {
        /// <summary>The key request the player makes: the key tag's address with the wrapped key and any grant as its query.</summary>
        public string RequestUrl => $"{Uri}?wrapped={Wrapped}" + (Grant is null ? "" : $"&{LiveGrant.QueryParameter}={Grant}");
    }

    /// <summary>The playlist's data key tags, in order.</summary>
    public static IReadOnlyList<Key> Of(string playlist) =>
        [.. playlist.Split('\n').Where(l => l.StartsWith(HlsPlaylist.KeyTag, StringComparison.Ordinal)).Select(Parse)];

    /// <summary>The URI of every <c>EXT-X-KEY</c> tag, in order (one before every encrypted file).</summary>
    public static IReadOnlyList<string> KeyTagUris(string playlist) => [.. KeyTagUri().Matches(playlist).Select(m => m.Groups[1].Value)];

    static Key Parse(string line)
    {
        var attributes = Attribute().Matches(line[HlsPlaylist.KeyTag.Length..]).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value, StringComparer.Ordinal);
        return new Key(attributes["URI"], attributes["WRAPPED"], attributes.GetValueOrDefault("GRANT"));
    }

    [GeneratedRegex("([A-Z0-9-]+)=\"([^\"]*)\"")]
    private static partial Regex Attribute();

    [GeneratedRegex("(?m)^#EXT-X-KEY:METHOD=AES-128,URI=\"([^\"]*)\"")]
    private static partial Regex KeyTagUri();
}
