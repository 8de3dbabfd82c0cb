using System.Globalization;
using System.Text;

namespace CloudStore.ControlPlane.Recordings;

/// <summary>A data key as a playlist names it.</summary>
/// <param name="Uri">The key tag's URI: the key server's address for the key, <c>{key server}/v1/keys/{key id:N}</c>, without a query.</param>
/// <param name="Wrapped">The wrapped key, which the key server needs to open it.</param>
/// <param name="Grant">For a viewer's live playlist: the live grant the key server requires of a viewer for this key; otherwise null.</param>
public sealed record PlaylistKey(string Uri, byte[] Wrapped, string? Grant = null);

/// <summary>One encrypted media segment as the playlist lists it.</summary>
/// <param name="Uri">A short-lived read-only URL to the ciphertext in the regional bucket.</param>
/// <param name="Sha256">SHA-256 of the ciphertext as the camera indexed it, which the player checks before decrypting.</param>
/// <param name="Key">The data key the segment and its init segment are encrypted with.</param>
/// <param name="InitUri">The encrypted init segment the media segment plays with, its IV and its SHA-256.</param>
public sealed record PlaylistSegment(
    DateTimeOffset StartTime,
    int DurationMs,
    string Uri,
    byte[] Iv,
    byte[] Sha256,
    PlaylistKey Key,
    string InitUri,
    byte[] InitIv,
    byte[] InitSha256);

/// <summary>
/// Builds an HLS media playlist (RFC 8216, version 7) for encrypted fMP4 segments: <c>EXT-X-MAP</c> for
/// the init segment, <c>EXT-X-KEY METHOD=AES-128</c> with an explicit IV before every encrypted file
/// (the init segment included), <c>EXT-X-PROGRAM-DATE-TIME</c> on every segment, and
/// <c>EXT-X-DISCONTINUITY</c> wherever the recording has a gap. No I/O: rows in, text out.
/// Each encrypted file's SHA-256 from the index precedes it (<see cref="DigestTag"/>, before <c>EXT-X-MAP</c> and
/// before <c>EXTINF</c>), so the player can refuse a file changed in storage before it decrypts it; players that do
/// not know the tag ignore it (RFC 8216, section 4.1).
/// Key tags name only the key server's address of a data key (<see cref="PlaylistKey.Uri"/>): what the key server needs
/// besides, the wrapped key and for a viewer a live grant, is written once per data key in <see cref="KeyTag"/>, not
/// repeated in the key tag before every file.
/// </summary>
public static class HlsPlaylist
{
    /// <summary>A jump between one segment's end and the next one's start larger than this is a gap.</summary>
    public static readonly TimeSpan GapTolerance = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// The tag carrying the SHA-256 of the next encrypted file (init or media segment), base64url without padding
    /// (43 characters: 69 bytes a segment with the tag and newline, about 1.5 MB in a day's playlist of 21,600 segments).
    /// </summary>
    public const string DigestTag = "#EXT-X-CLOUDSTORE-SHA256:";

    /// <summary>
    /// The tag carrying, once per data key and right after the <c>EXT-X-MAP</c> of the first segment that uses it, what the
    /// key server needs to open that key besides the caller's token: <c>URI="{key URI}",WRAPPED="{base64url}"</c>, and
    /// <c>,GRANT="{live grant}"</c> in a viewer's live playlist. A player asks for the key at the key tag's URI with
    /// <c>?wrapped=…&amp;grant=…</c> from this tag. After <c>EXT-X-MAP</c>, so that hls.js keeps it on that media segment
    /// (a new fragment at every live reload, so the grant it carries is always the newest), not on the init segment
    /// (which hls.js reuses across reloads).
    /// </summary>
    public const string KeyTag = "#EXT-X-CLOUDSTORE-KEY:";

    /// <param name="segments">In time order.</param>
    /// <param name="closed">True for a range wholly in the past (VOD, with EXT-X-ENDLIST); false for a range reaching now (EVENT).</param>
    public static string Build(IReadOnlyList<PlaylistSegment> segments, bool closed) =>
        Build(segments, closed ? "VOD" : "EVENT", mediaSequence: 0, closed);

    /// <summary>
    /// A live playlist (no playlist type, no end): a sliding window of the newest segments, which a player reloads
    /// every target duration (RFC 8216, section 6.2.2).
    /// </summary>
    /// <param name="segments">One unbroken run, in time order.</param>
    /// <param name="mediaSequence">The first segment's sequence number; the others follow it one by one.</param>
    public static string BuildLive(IReadOnlyList<PlaylistSegment> segments, long mediaSequence) =>
        Build(segments, playlistType: null, mediaSequence, closed: false);

    static string Build(IReadOnlyList<PlaylistSegment> segments, string? playlistType, long mediaSequence, bool closed)
    {
        var text = new StringBuilder(256 + (segments.Count * 490));
        var targetDuration = segments.Count == 0 ? 1 : (int)Math.Ceiling(segments.Max(s => s.DurationMs) / 1000.0);
        text.Append("#EXTM3U\n#EXT-X-VERSION:7\n")
            .Append(CultureInfo.InvariantCulture, $"#EXT-X-TARGETDURATION:{targetDuration}\n")
            .Append(CultureInfo.InvariantCulture, $"#EXT-X-MEDIA-SEQUENCE:{mediaSequence}\n");
        if (playlistType is not null)
        {
            text.Append("#EXT-X-PLAYLIST-TYPE:").Append(playlistType).Append('\n');
        }

        text.Append("#EXT-X-INDEPENDENT-SEGMENTS\n");

        var keysWritten = new HashSet<string>(StringComparer.Ordinal);
        PlaylistSegment? previous = null;
        foreach (var segment in segments)
        {
            var gap = previous is not null && segment.StartTime - previous.StartTime.AddMilliseconds(previous.DurationMs) > GapTolerance;
            if (gap)
            {
                text.Append("#EXT-X-DISCONTINUITY\n");
            }

            if (previous is null || gap || previous.InitUri != segment.InitUri || previous.Key.Uri != segment.Key.Uri)
            {
                // The key tag in force when EXT-X-MAP appears decrypts the init segment, so it carries the init segment's IV.
                Key(text, segment.Key.Uri, segment.InitIv);
                Digest(text, segment.InitSha256);
                text.Append("#EXT-X-MAP:URI=\"").Append(segment.InitUri).Append("\"\n");
                if (keysWritten.Add(segment.Key.Uri))
                {
                    KeyDetails(text, segment.Key);
                }
            }

            Key(text, segment.Key.Uri, segment.Iv);
            text.Append("#EXT-X-PROGRAM-DATE-TIME:").Append(segment.StartTime.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)).Append('\n');
            Digest(text, segment.Sha256);
            text.Append(CultureInfo.InvariantCulture, $"#EXTINF:{segment.DurationMs / 1000.0:0.000},\n")
                .Append(segment.Uri).Append('\n');
            previous = segment;
        }

        if (closed)
        {
            text.Append("#EXT-X-ENDLIST\n");
        }

        return text.ToString();
    }

    /// <summary>The digest as the tag writes it: base64url without padding.</summary>
    public static string DigestText(byte[] sha256) => System.Buffers.Text.Base64Url.EncodeToString(sha256);

    static void Digest(StringBuilder text, byte[] sha256) => text.Append(DigestTag).Append(DigestText(sha256)).Append('\n');

    static void KeyDetails(StringBuilder text, PlaylistKey key)
    {
        text.Append(KeyTag).Append("URI=\"").Append(key.Uri).Append("\",WRAPPED=\"").Append(System.Buffers.Text.Base64Url.EncodeToString(key.Wrapped)).Append('"');
        if (key.Grant is not null)
        {
            text.Append(",GRANT=\"").Append(key.Grant).Append('"');
        }

        text.Append('\n');
    }

    static void Key(StringBuilder text, string uri, byte[] iv) =>
        text.Append("#EXT-X-KEY:METHOD=AES-128,URI=\"").Append(uri).Append("\",IV=0x").Append(Convert.ToHexString(iv)).Append('\n');
}
