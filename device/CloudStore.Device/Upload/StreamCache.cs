using System.Text.Json;
using CloudStore.Contracts;
using CloudStore.Device.Media;

namespace CloudStore.Device.Upload;

public enum CacheItemKind
{
    WrappedKey,
    Init,
    Segment,
}

/// <summary>What a segment item carries for the index besides its stored object.</summary>
public sealed record SegmentInfo(long Sequence, DateTimeOffset StartTime, int DurationMs, string InitObjectName, string Codec, int Width, int Height);

/// <summary>One encrypted file waiting in the cache, with everything needed to upload and index it.</summary>
public sealed record CacheItem(
    long Order,
    CacheItemKind Kind,
    StoredObject Stored,
    SegmentInfo? Segment,
    string? SourcePath,
    bool Uploaded = false);

/// <summary>
/// The stream cache: a bounded on-disk queue of encrypted files that survives restarts. When adding a
/// file would exceed the capacity, the oldest segments not yet uploaded are dropped and counted
/// (wrapped keys and init segments are small and never dropped: later segments need them).
/// Each item is two files, <c>NNNNNNNNNNNN.bin</c> (ciphertext) and <c>.json</c>; every write is to a
/// temporary file renamed into place, so a crash leaves whole items only. What the cache remembers besides
/// its items is small and bounded (<see cref="CacheState"/>): each change is one line appended to
/// <c>state.journal</c>, folded into <c>state.json</c> when the journal passes <see cref="JournalLimitBytes"/>.
/// Safe to share between the producer and the sender: every member takes one lock.
/// </summary>
public sealed class StreamCache
{
    /// <summary>Size past which the journal is folded into the snapshot (so the state files never exceed a few KiB).</summary>
    public const int JournalLimitBytes = 8 * 1024;

    readonly string _folder;
    readonly long _capacity;
    readonly Lock _gate = new();
    readonly SortedDictionary<long, CacheItem> _items = [];
    readonly CacheState _state;
    long _nextOrder;
    long _bytes;
    long _journalBytes;

    public StreamCache(string folder, long capacityBytes)
    {
        _folder = folder;
        _capacity = capacityBytes;
        Directory.CreateDirectory(folder);
        _state = CacheState.Load(SnapshotPath, JournalPath);
        _journalBytes = File.Exists(JournalPath) ? new FileInfo(JournalPath).Length : 0;
        foreach (var unfinished in Directory.EnumerateFiles(folder, "*.tmp"))
        {
            File.Delete(unfinished); // Written when the camera stopped, before it was added: its segment is taken in again.
        }

        foreach (var json in Directory.EnumerateFiles(folder, "*.json").Where(f => Path.GetFileName(f) != "state.json"))
        {
            var item = JsonSerializer.Deserialize<CacheItem>(File.ReadAllText(json));
            if (item is null || !File.Exists(ContentPath(item.Order)))
            {
                File.Delete(json);
                continue;
            }

            _items[item.Order] = item;
            _bytes += item.Stored.Size;
            _nextOrder = Math.Max(_nextOrder, item.Order + 1);

            // An item written just before a crash, ahead of its journal line, still counts as taken in.
            _state.Apply(new CacheState.Change { NextSequence = item.Segment?.Sequence + 1, Taken = Taken(item.SourcePath, item.Segment) });
        }
    }

    string SnapshotPath => Path.Combine(_folder, "state.json");

    string JournalPath => Path.Combine(_folder, "state.journal");

    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _bytes;
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _items.Count;
            }
        }
    }

    /// <summary>Sequence numbers dropped because the cache was full (the most recent <see cref="CacheState.MaxDroppedRanges"/> runs of them), oldest first.</summary>
    public IReadOnlyList<long> Dropped
    {
        get
        {
            lock (_gate)
            {
                return [.. _state.Dropped.SelectMany(r => Enumerable.Range(0, (int)(r.Last - r.First + 1)).Select(i => r.First + i))];
            }
        }
    }

    /// <summary>The last public key received with a grant, so encryption can go on while the link is down.</summary>
    public PublicKeyResponse? PublicKey
    {
        get
        {
            lock (_gate)
            {
                return _state.PublicKey;
            }
        }
    }

    /// <summary>Reserves the next sequence number for a segment.</summary>
    public long NextSequence()
    {
        lock (_gate)
        {
            return _state.NextSequence++;
        }
    }

    /// <summary>Whether a segment of a source folder was taken in already (by this run or one before it).</summary>
    public bool HasTaken(SourceSegment segment)
    {
        lock (_gate)
        {
            return _state.Taken.FirstOrDefault(t => t.Folder == FolderOf(segment.SegmentPath)) is { } taken && segment.StartTime <= taken.Through;
        }
    }

    /// <summary>A new file in the cache's folder for content to be written before it is added (<see cref="Add(CacheItemKind, StoredObject, SegmentInfo?, string?, string)"/>).</summary>
    public string NewContentFile() => Path.Combine(_folder, $"incoming-{Guid.NewGuid():N}.tmp");

    /// <param name="sourcePath">For a segment from a source folder the user keeps: its file, remembered as taken (by its folder and start time).</param>
    /// <returns>The sequence numbers dropped to make room, if any.</returns>
    public IReadOnlyList<long> Add(CacheItemKind kind, StoredObject stored, SegmentInfo? segment, string? sourcePath, byte[] ciphertext)
    {
        var content = NewContentFile();
        File.WriteAllBytes(content, ciphertext);
        return Add(kind, stored, segment, sourcePath, content);
    }

    /// <summary>Adds an item whose ciphertext was written to <paramref name="contentFile"/> (from <see cref="NewContentFile"/>), which moves into the cache.</summary>
    /// <param name="sourcePath">For a segment from a source folder the user keeps: its file, remembered as taken (by its folder and start time).</param>
    /// <returns>The sequence numbers dropped to make room, if any.</returns>
    public IReadOnlyList<long> Add(CacheItemKind kind, StoredObject stored, SegmentInfo? segment, string? sourcePath, string contentFile)
    {
        lock (_gate)
        {
            var item = new CacheItem(_nextOrder++, kind, stored, segment, sourcePath);
            File.Move(contentFile, ContentPath(item.Order), overwrite: true);
            WriteAtomically(ItemPath(item.Order), JsonSerializer.SerializeToUtf8Bytes(item));
            _items[item.Order] = item;
            _bytes += stored.Size;

            var dropped = new List<long>();
            while (_bytes > _capacity && _items.Values.FirstOrDefault(i => i.Kind == CacheItemKind.Segment && !i.Uploaded) is { } oldest)
            {
                DeleteFiles(oldest);
                dropped.Add(oldest.Segment!.Sequence);
            }

            if (segment is not null || dropped.Count > 0)
            {
                Record(new CacheState.Change { NextSequence = segment?.Sequence + 1, Dropped = dropped.Count > 0 ? [.. dropped] : null, Taken = Taken(sourcePath, segment) });
            }

            return dropped;
        }
    }

    public IReadOnlyList<CacheItem> Items()
    {
        lock (_gate)
        {
            return [.. _items.Values];
        }
    }

    public Stream OpenContent(CacheItem item) => new FileStream(ContentPath(item.Order), FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, useAsync: true);

    public void MarkUploaded(CacheItem item)
    {
        lock (_gate)
        {
            if (_items.ContainsKey(item.Order))
            {
                var uploaded = item with { Uploaded = true };
                WriteAtomically(ItemPath(item.Order), JsonSerializer.SerializeToUtf8Bytes(uploaded));
                _items[item.Order] = uploaded;
            }
        }
    }

    /// <summary>Removes items that are done (indexed, or a wrapped key uploaded and no longer needed).</summary>
    public void Remove(IEnumerable<CacheItem> items)
    {
        lock (_gate)
        {
            foreach (var item in items)
            {
                if (_items.ContainsKey(item.Order))
                {
                    DeleteFiles(item);
                }
            }
        }
    }

    /// <summary>Keeps the public key a grant came with, if it is not the one kept already.</summary>
    public void SavePublicKey(PublicKeyResponse key)
    {
        lock (_gate)
        {
            if (_state.PublicKey != key)
            {
                Record(new CacheState.Change { PublicKey = key });
            }
        }
    }

    /// <summary>Applies a change and appends it to the journal; folds the journal into the snapshot when it has grown.</summary>
    void Record(CacheState.Change change)
    {
        _state.Apply(change);
        var line = JsonSerializer.SerializeToUtf8Bytes(change);
        if (_journalBytes + line.Length + 1 > JournalLimitBytes)
        {
            // Snapshot first, journal second: a crash in between replays old changes over the new snapshot, which
            // changes nothing (every change is a high-water mark or a set union).
            WriteAtomically(SnapshotPath, JsonSerializer.SerializeToUtf8Bytes(_state));
            File.Delete(JournalPath);
            _journalBytes = 0;
            return;
        }

        using (var journal = new FileStream(JournalPath, FileMode.Append, FileAccess.Write, FileShare.Read))
        {
            journal.Write(line);
            journal.WriteByte((byte)'\n');
        }

        _journalBytes += line.Length + 1;
    }

    static CacheState.TakenThrough? Taken(string? sourcePath, SegmentInfo? segment) =>
        sourcePath is not null && segment is not null ? new CacheState.TakenThrough(FolderOf(sourcePath), segment.StartTime) : null;

    static string FolderOf(string path) => Path.GetDirectoryName(Path.GetFullPath(path)) ?? "";

    void DeleteFiles(CacheItem item)
    {
        File.Delete(ItemPath(item.Order));
        File.Delete(ContentPath(item.Order));
        _items.Remove(item.Order);
        _bytes -= item.Stored.Size;
    }

    string ItemPath(long order) => Path.Combine(_folder, $"{order:D12}.json");

    string ContentPath(long order) => Path.Combine(_folder, $"{order:D12}.bin");

    static void WriteAtomically(string path, byte[] content)
    {
        var temporary = path + ".tmp";
        File.WriteAllBytes(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }
}
