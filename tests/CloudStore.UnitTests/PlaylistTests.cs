using CloudStore.ControlPlane.Recordings;
using Xunit;

namespace CloudStore.UnitTests;

/// <summary>The HLS playlist builder: rows in, RFC 8216 text out.</summary>
public sealed class PlaylistTests
{
    static readonly DateTimeOffset Start = new(2026, 11, 27, 10, 0, 0, TimeSpan.Zero);
    static readonly byte[] Iv = [.. Enumerable.Range(0, 16).Select(i => (byte)i)];

    static PlaylistSegment Segment(double offsetSeconds, string key = "https://keys/k1", string init = "https://store/init1", int durationMs = 4000, string? grant = null) =>
        new(Start.AddSeconds(offsetSeconds), durationMs, $"https://store/seg-{offsetSeconds}", Iv, Digest($"seg-{offsetSeconds}"), new PlaylistKey(key, Wrapped(key), grant), init, Iv, Digest(init));

    /// <summary>A distinct wrapped key per data key (300 bytes, as RSA-2048 wraps with their header).</summary>
    static byte[] Wrapped(string key) => [.. Enumerable.Range(0, 10).SelectMany(i => Digest($"{key}/{i}")).Take(300)];

    static string WrappedText(string key) => Convert.ToBase64String(Wrapped(key)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>A distinct SHA-256 per file, as the index holds them.</summary>
    static byte[] Digest(string file) => System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(file));

    static string DigestLine(string file) =>
        "#EXT-X-CLOUDSTORE-SHA256:" + Convert.ToBase64String(Digest(file)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    static string[] Lines(string playlist) => playlist.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void BuildLive_IsASlidingWindow_NumberedFromTheCamerasSequence_WithNoTypeAndNoEnd()
    {
        var lines = Lines(HlsPlaylist.BuildLive([Segment(0), Segment(4)], mediaSequence: 1234));

        Assert.Contains("#EXT-X-MEDIA-SEQUENCE:1234", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("#EXT-X-PLAYLIST-TYPE", StringComparison.Ordinal));
        Assert.DoesNotContain("#EXT-X-ENDLIST", lines);
        Assert.Equal(2, lines.Count(l => l.StartsWith("#EXTINF", StringComparison.Ordinal)));
        Assert.Equal("https://store/seg-4", lines[^1]);
    }

    [Fact]
    public void BuildLive_NothingRecentlyRecorded_IsAnEmptyLivePlaylist()
    {
        var lines = Lines(HlsPlaylist.BuildLive([], mediaSequence: 0));

        Assert.Equal(["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-TARGETDURATION:1", "#EXT-X-MEDIA-SEQUENCE:0", "#EXT-X-INDEPENDENT-SEGMENTS"], lines);
    }

    [Fact]
    public void Build_ContiguousSegments_OneKeyAndMapThenAKeyPerSegmentAndNoDiscontinuity()
    {
        var lines = Lines(HlsPlaylist.Build([Segment(0), Segment(4), Segment(8)], closed: true));

        Assert.Equal("#EXTM3U", lines[0]);
        Assert.Contains("#EXT-X-TARGETDURATION:4", lines);
        Assert.Contains("#EXT-X-PLAYLIST-TYPE:VOD", lines);
        Assert.Equal("#EXT-X-ENDLIST", lines[^1]);
        Assert.Single(lines, l => l.StartsWith("#EXT-X-MAP:", StringComparison.Ordinal));
        Assert.Equal(4, lines.Count(l => l.StartsWith("#EXT-X-KEY:METHOD=AES-128,URI=\"https://keys/k1\",IV=0x000102030405060708090A0B0C0D0E0F", StringComparison.Ordinal)));
        Assert.DoesNotContain("#EXT-X-DISCONTINUITY", lines);
        Assert.Equal(["#EXTINF:4.000,", "#EXTINF:4.000,", "#EXTINF:4.000,"], lines.Where(l => l.StartsWith("#EXTINF", StringComparison.Ordinal)));
        Assert.Equal("#EXT-X-PROGRAM-DATE-TIME:2026-11-27T10:00:08.000Z", lines.Last(l => l.StartsWith("#EXT-X-PROGRAM-DATE-TIME", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData(4.4, false)]
    [InlineData(4.6, true)]
    [InlineData(60, true)]
    public void Build_NextSegmentLate_DiscontinuityOnlyPastTheTolerance(double secondStart, bool discontinuity)
    {
        var lines = Lines(HlsPlaylist.Build([Segment(0), Segment(secondStart)], closed: true));

        Assert.Equal(discontinuity, lines.Contains("#EXT-X-DISCONTINUITY"));
        Assert.Equal(discontinuity ? 2 : 1, lines.Count(l => l.StartsWith("#EXT-X-MAP:", StringComparison.Ordinal)));
    }

    [Fact]
    public void Build_DataKeyOrInitSegmentChanges_MapRepeatedWithTheNewKey()
    {
        var lines = Lines(HlsPlaylist.Build([Segment(0), Segment(4, key: "https://keys/k2"), Segment(8, key: "https://keys/k2", init: "https://store/init2")], closed: false));

        Assert.Equal(3, lines.Count(l => l.StartsWith("#EXT-X-MAP:", StringComparison.Ordinal)));
        Assert.Contains("#EXT-X-PLAYLIST-TYPE:EVENT", lines);
        Assert.DoesNotContain("#EXT-X-ENDLIST", lines);
    }

    [Fact]
    public void Build_EachEncryptedFile_PrecededByItsIndexedSha256_InitBeforeMapAndMediaBeforeExtinf()
    {
        var lines = Lines(HlsPlaylist.Build([Segment(0), Segment(4), Segment(8, init: "https://store/init2")], closed: true));

        // hls.js keeps a tag it does not know on the fragment the next URI line (or EXT-X-MAP) makes, so each digest
        // sits between that file's key tag and its URI: the init segment's right before EXT-X-MAP, a media segment's
        // right before EXTINF.
        var maps = lines.Select((line, i) => (line, i)).Where(l => l.line.StartsWith("#EXT-X-MAP:", StringComparison.Ordinal)).ToList();
        Assert.Equal([DigestLine("https://store/init1"), DigestLine("https://store/init2")], maps.Select(m => lines[m.i - 1]));
        var infs = lines.Select((line, i) => (line, i)).Where(l => l.line.StartsWith("#EXTINF:", StringComparison.Ordinal)).ToList();
        Assert.Equal([DigestLine("seg-0"), DigestLine("seg-4"), DigestLine("seg-8")], infs.Select(m => lines[m.i - 1]));
        Assert.All(lines.Where(l => l.StartsWith(HlsPlaylist.DigestTag, StringComparison.Ordinal)), l => Assert.Equal(HlsPlaylist.DigestTag.Length + 43, l.Length));
    }

    [Fact]
    public void Build_EachDataKey_WrappedOnceInItsKeyTagAfterTheFirstMapThatUsesIt_KeyTagsNameOnlyTheKey()
    {
        // k1, then k2, then k2 again after a gap (EXT-X-MAP and its key tag again, the wrapped key not again).
        var lines = Lines(HlsPlaylist.Build([Segment(0), Segment(4), Segment(8, key: "https://keys/k2"), Segment(60, key: "https://keys/k2")], closed: true));

        var keyTags = lines.Select((line, i) => (line, i)).Where(l => l.line.StartsWith(HlsPlaylist.KeyTag, StringComparison.Ordinal)).ToList();
        Assert.Equal(
            [$"#EXT-X-CLOUDSTORE-KEY:URI=\"https://keys/k1\",WRAPPED=\"{WrappedText("https://keys/k1")}\"", $"#EXT-X-CLOUDSTORE-KEY:URI=\"https://keys/k2\",WRAPPED=\"{WrappedText("https://keys/k2")}\""],
            keyTags.Select(k => k.line));
        var maps = lines.Select((line, i) => (line, i)).Where(l => l.line.StartsWith("#EXT-X-MAP:", StringComparison.Ordinal)).ToList();
        Assert.Equal(3, maps.Count);
        Assert.Equal([maps[0].i + 1, maps[1].i + 1], keyTags.Select(k => k.i));
        Assert.Equal(
            ["https://keys/k1", "https://keys/k1", "https://keys/k1", "https://keys/k2", "https://keys/k2", "https://keys/k2", "https://keys/k2"],
            lines.Where(l => l.StartsWith("#EXT-X-KEY:", StringComparison.Ordinal)).Select(l => l.Split('"')[1]));
        Assert.All([WrappedText("https://keys/k1"), WrappedText("https://keys/k2")], wrapped => Assert.Single(lines, l => l.Contains(wrapped, StringComparison.Ordinal)));
        Assert.DoesNotContain(lines, l => l.Contains("GRANT=", StringComparison.Ordinal));
    }

    [Fact]
    public void BuildLive_ViewersKeys_EachGrantOnlyInItsDataKeysTag()
    {
        var lines = Lines(HlsPlaylist.BuildLive(
            [Segment(0, grant: "grant.for.k1"), Segment(4, grant: "grant.for.k1"), Segment(8, key: "https://keys/k2", grant: "grant.for.k2")], mediaSequence: 7));

        Assert.Equal($"#EXT-X-CLOUDSTORE-KEY:URI=\"https://keys/k1\",WRAPPED=\"{WrappedText("https://keys/k1")}\",GRANT=\"grant.for.k1\"", Assert.Single(lines, l => l.Contains("grant.for.k1", StringComparison.Ordinal)));
        Assert.Equal($"#EXT-X-CLOUDSTORE-KEY:URI=\"https://keys/k2\",WRAPPED=\"{WrappedText("https://keys/k2")}\",GRANT=\"grant.for.k2\"", Assert.Single(lines, l => l.Contains("grant.for.k2", StringComparison.Ordinal)));
        Assert.All(lines.Where(l => l.StartsWith("#EXT-X-KEY:", StringComparison.Ordinal)), l => Assert.Matches("^#EXT-X-KEY:METHOD=AES-128,URI=\"https://keys/k[12]\",IV=0x[0-9A-F]{32}$", l));
    }

    [Fact]
    public void Build_NoSegments_AValidEmptyPlaylist()
    {
        Assert.Equal("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-ENDLIST\n",
            HlsPlaylist.Build([], closed: true));
    }
}
