using System.Text.Json;
using CloudStore.Contracts;

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

/// <summary>What the cache remembers across restarts besides its items.</summary>
public sealed class CacheState
{
    public long NextOrder { get; set; }

    public long NextSequence { get; set; }

    /// <summary>Sequence numbers dropped because the cache was full, oldest first.</summary>
    public List<long> Dropped { get; set; } = [];

    /// <summary>Source files already taken in (for folder sources, so a restart does not take them twice).</summary>
    public HashSet<string> Consumed { get; set; } = [];

    /// <summary>The last public key received with a grant, so encryption can go on while the link is down.</summary>
    public PublicKeyResponse? PublicKey { get; set; }
}

/// <summary>
/// The stream cache: a bounded on-disk queue of encrypted files that survives restarts. When adding a
/// file would exceed the capacity, the oldest segments not yet uploaded are dropped and counted
/// (wrapped keys and init segments are small and never dropped: later segments need them).
/// Each item is two files, <c>NNNNNNNNNNNN.bin</c> (ciphertext) and <c>.json</c>; every write is to a
/// temporary file renamed into place, so a crash leaves whole items only.
/// </summary>
public sealed class StreamCache
{
    readonly string _folder;
    readonly long _capacity;
    readonly Lock _gate = new();
    readonly SortedDictionary<long, CacheItem> _items = [];
    long _bytes;

    public StreamCache(string folder, long capacityBytes)
    {
        _folder = folder;
        _capacity = capacityBytes;
        Directory.CreateDirectory(folder);
        State = File.Exists(StatePath) ? JsonSerializer.Deserialize<CacheState>(File.ReadAllText(StatePath)) ?? new CacheState() : new CacheState();
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

            // An item written just before a crash, ahead of the state file, still counts as taken in.
            State.NextOrder = Math.Max(State.NextOrder, item.Order + 1);
            State.NextSequence = Math.Max(State.NextSequence, (item.Segment?.Sequence ?? -1) + 1);
            if (item.SourcePath is not null)
            {
                State.Consumed.Add(item.SourcePath);
            }
        }
    }

    public CacheState State { get; }

    string StatePath => Path.Combine(_folder, "state.json");

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

    /// <summary>Reserves the next sequence number for a segment.</summary>
    public long NextSequence()
    {
        lock (_gate)
        {
            return State.NextSequence++;
        }
    }

    /// <returns>The sequence numbers dropped to make room, if any.</returns>
    public IReadOnlyList<long> Add(CacheItemKind kind, StoredObject stored, SegmentInfo? segment, string? sourcePath, byte[] ciphertext)
    {
        lock (_gate)
        {
            var item = new CacheItem(State.NextOrder++, kind, stored, segment, sourcePath);
            WriteAtomically(ContentPath(item.Order), ciphertext);
            WriteAtomically(ItemPath(item.Order), JsonSerializer.SerializeToUtf8Bytes(item));
            _items[item.Order] = item;
            _bytes += stored.Size;
            if (sourcePath is not null)
            {
                State.Consumed.Add(sourcePath);
            }

            var dropped = new List<long>();
            while (_bytes > _capacity && _items.Values.FirstOrDefault(i => i.Kind == CacheItemKind.Segment && !i.Uploaded) is { } oldest)
            {
                DeleteFiles(oldest);
                dropped.Add(oldest.Segment!.Sequence);
            }

            State.Dropped.AddRange(dropped);
            SaveState();
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

    public void SavePublicKey(PublicKeyResponse key)
    {
        lock (_gate)
        {
            State.PublicKey = key;
            SaveState();
        }
    }

    void DeleteFiles(CacheItem item)
    {
        File.Delete(ItemPath(item.Order));
        File.Delete(ContentPath(item.Order));
        _items.Remove(item.Order);
        _bytes -= item.Stored.Size;
    }

    void SaveState() => WriteAtomically(StatePath, JsonSerializer.SerializeToUtf8Bytes(State));

    string ItemPath(long order) => Path.Combine(_folder, $"{order:D12}.json");

    string ContentPath(long order) => Path.Combine(_folder, $"{order:D12}.bin");

    static void WriteAtomically(string path, byte[] content)
    {
        var temporary = path + ".tmp";
        File.WriteAllBytes(temporary, content);
        File.Move(temporary, path, overwrite: true);
    }
}
