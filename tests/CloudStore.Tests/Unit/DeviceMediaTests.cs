using CloudStore.Contracts;
using CloudStore.Device.Media;
using CloudStore.Device.Upload;
using Xunit;

namespace CloudStore.Tests.Unit;

public sealed class DeviceMediaTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("cloudstore-media-").FullName;

    [Fact]
    public void HlsFolder_ReadsFfmpegPlaylist_WithProgramDateTimeAndDurations()
    {
        var playlist = Path.Combine(_folder, "out.m3u8");
        File.WriteAllText(playlist, """
            #EXTM3U
            #EXT-X-VERSION:7
            #EXT-X-TARGETDURATION:4
            #EXT-X-MAP:URI="init.mp4"
            #EXTINF:4.000000,
            #EXT-X-PROGRAM-DATE-TIME:2026-11-22T02:46:40.497+0000
            seg_000000.m4s
            #EXTINF:3.500000,
            #EXT-X-PROGRAM-DATE-TIME:2026-11-22T02:46:44.497+0000
            seg_000001.m4s
            #EXTINF:4.0,
            """);

        var segments = HlsFolder.ReadCompleted(playlist);

        Assert.Equal(2, segments.Count);
        Assert.Equal(new DateTimeOffset(2026, 11, 22, 2, 46, 44, 497, TimeSpan.Zero), segments[1].StartTime);
        Assert.Equal(TimeSpan.FromSeconds(3.5), segments[1].Duration);
        Assert.Equal(Path.Combine(_folder, "init.mp4"), segments[0].InitPath);
        Assert.Equal(Path.Combine(_folder, "seg_000001.m4s"), segments[1].SegmentPath);
    }

    [Fact]
    public void HlsFolder_MissingPlaylist_NoSegmentsYet()
    {
        Assert.Empty(HlsFolder.ReadCompleted(Path.Combine(_folder, "nothing.m3u8")));
    }

    [Fact]
    public void StreamCache_ContentWrittenButNotAddedWhenTheCameraStopped_IsGoneAtRestart_AddedContentStays()
    {
        var cache = new StreamCache(_folder, capacityBytes: 1000);
        var added = cache.NewContentFile();
        File.WriteAllBytes(added, new byte[100]);
        cache.Add(CacheItemKind.WrappedKey, Stored("keys/k.key", 100), null, null, added);
        var unfinished = cache.NewContentFile();
        File.WriteAllBytes(unfinished, new byte[50]);

        var reopened = new StreamCache(_folder, capacityBytes: 1000);

        Assert.False(File.Exists(unfinished));
        Assert.False(File.Exists(added)); // moved into the cache
        using var content = reopened.OpenContent(Assert.Single(reopened.Items()));
        Assert.Equal(100, content.Length);
    }

    [Fact]
    public void StreamCache_Full_DropsOldestUnsentSegmentsOnly_AndRemembersAcrossRestart()
    {
        var cache = new StreamCache(_folder, capacityBytes: 300);
        cache.Add(CacheItemKind.WrappedKey, Stored("keys/k.key", 60), null, null, new byte[60]);
        var first = Segment(cache, 100);
        cache.MarkUploaded(cache.Items().Single(i => i.Segment?.Sequence == first));
        var second = Segment(cache, 100);
        var third = Segment(cache, 100);

        var reopened = new StreamCache(_folder, capacityBytes: 300);

        Assert.Equal([second], reopened.Dropped);
        Assert.Equal([CacheItemKind.WrappedKey, CacheItemKind.Segment, CacheItemKind.Segment], reopened.Items().Select(i => i.Kind));
        Assert.Equal([first, third], reopened.Items().Where(i => i.Segment is not null).Select(i => i.Segment!.Sequence));
        Assert.True(reopened.Items().Single(i => i.Segment?.Sequence == first).Uploaded);
        Assert.Equal(third + 1, reopened.NextSequence());
    }

    [Fact]
    public void StreamCache_TwoThousandFolderSegmentsWithDrops_StateStaysSmall_AndRemembersWhereItWas()
    {
        var cache = new StreamCache(_folder, capacityBytes: 250);
        cache.SavePublicKey(new PublicKeyResponse("key-1", 1, new string('A', 400)));
        var start = new DateTimeOffset(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
        var largest = 0L;
        const int segments = 2_000; // Each remembered path alone would take 70 KiB.
        for (var i = 0; i < segments; i++)
        {
            // Every tenth segment is never uploaded, so the cache overflows now and then and drops one.
            var sequence = FolderSegment(cache, $"/recordings/gate/seg_{i:D6}.m4s", start.AddSeconds(4 * i));
            var item = cache.Items().Single(x => x.Segment?.Sequence == sequence);
            if (i % 10 != 0)
            {
                cache.MarkUploaded(item);
                cache.Remove([item]);
            }

            if (i % 20 == 0)
            {
                largest = Math.Max(largest, StateBytes());
            }
        }

        var reopened = new StreamCache(_folder, capacityBytes: 250);

        Assert.True(largest <= 16 * 1024, $"the state files reached {largest} bytes");
        Assert.Equal(segments, reopened.NextSequence());
        Assert.True(reopened.HasTaken(new SourceSegment("/recordings/gate/init.mp4", $"/recordings/gate/seg_{segments - 1:D6}.m4s", start.AddSeconds(4 * (segments - 1)), TimeSpan.FromSeconds(4))));
        Assert.False(reopened.HasTaken(new SourceSegment("/recordings/gate/init.mp4", $"/recordings/gate/seg_{segments:D6}.m4s", start.AddSeconds(4 * segments), TimeSpan.FromSeconds(4))));
        Assert.Equal("key-1", reopened.PublicKey?.KeyId);
        Assert.Equal(CacheState.MaxDroppedRanges, reopened.Dropped.Count);
        Assert.Equal(segments - 20, reopened.Dropped[^1]);
    }

    [Fact]
    public void StreamCache_EachSegment_AppendsOneJournalLine_SnapshotUntouched_TornLastLineIgnored()
    {
        var cache = new StreamCache(_folder, capacityBytes: 10_000);
        cache.SavePublicKey(new PublicKeyResponse("key-1", 1, "AAAA"));
        Segment(cache, 10);
        var journal = Path.Combine(_folder, "state.journal");
        var before = File.ReadAllLines(journal).Length;

        var sequence = Segment(cache, 10);
        File.AppendAllText(journal, "{\"NextSequence\":99"); // a crash in the middle of a line

        Assert.Equal(before + 1, File.ReadAllLines(journal).Length - 1);
        Assert.False(File.Exists(Path.Combine(_folder, "state.json")), "the snapshot was written for a segment");
        Assert.Equal(sequence + 1, new StreamCache(_folder, capacityBytes: 10_000).NextSequence());
    }

    [Fact]
    public async Task ThrottledStream_NeverFasterThanTheLimit()
    {
        const int bytes = 400_000;
        const long rate = 200_000;
        using var limiter = ThrottledStream.CreateLimiter(rate);
        await using var stream = new ThrottledStream(new MemoryStream(new byte[bytes]), limiter);
        var started = TimeProvider.System.GetTimestamp();

        await stream.CopyToAsync(Stream.Null);

        // The bucket may start full (one tenth of a second of tokens); everything after must wait for refills.
        var elapsed = TimeProvider.System.GetElapsedTime(started);
        Assert.True(elapsed >= TimeSpan.FromSeconds((bytes - (rate / 10.0)) / rate * 0.95), $"{bytes} bytes in {elapsed.TotalSeconds:F2} s at {rate} B/s");
    }

    [Fact]
    public async Task Ffmpeg_VideoFile_CutIntoGopAlignedH264Segments()
    {
        var file = Path.Combine(_folder, "clip.mp4");
        using (var make = System.Diagnostics.Process.Start("ffmpeg", ["-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "5", "-c:v", "libx264", file])!)
        {
            await make.WaitForExitAsync();
            Assert.Equal(0, make.ExitCode);
        }

        var playlist = await Ffmpeg.SegmentToFolderAsync(new VideoSource.File(file), Path.Combine(_folder, "cut"), TimeSpan.FromSeconds(2), CancellationToken.None);
        var segments = HlsFolder.ReadCompleted(playlist);

        Assert.Equal([2.0, 2.0, 1.0], segments.Select(s => Math.Round(s.Duration.TotalSeconds, 1)));
        var info = Fmp4Info.FromInitSegment(await File.ReadAllBytesAsync(segments[0].InitPath));
        Assert.StartsWith("avc1.4d", info.Codec, StringComparison.Ordinal);
        Assert.Equal((320, 240), (info.Width, info.Height));
        Assert.All(segments, s => Assert.True(Fmp4Info.LooksLikeMp4(File.ReadAllBytes(s.SegmentPath))));
    }

    static long Segment(StreamCache cache, int size)
    {
        var sequence = cache.NextSequence();
        cache.Add(CacheItemKind.Segment, Stored($"segments/{sequence:D12}.m4s", size),
            new SegmentInfo(sequence, TimeProvider.System.GetUtcNow(), 4000, "init/i.mp4", "avc1.4d401e", 640, 360), $"/source/{sequence}", new byte[size]);
        return sequence;
    }

    static long FolderSegment(StreamCache cache, string path, DateTimeOffset startTime)
    {
        var sequence = cache.NextSequence();
        cache.Add(CacheItemKind.Segment, Stored($"segments/{sequence:D12}.m4s", 100),
            new SegmentInfo(sequence, startTime, 4000, "init/i.mp4", "avc1.4d401e", 640, 360), path, new byte[100]);
        return sequence;
    }

    long StateBytes() => Directory.EnumerateFiles(_folder, "state.*").Sum(f => new FileInfo(f).Length);

    static StoredObject Stored(string name, long size) => new(name, size, new string('0', 64), Guid.NewGuid(), new string('0', 32));

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
