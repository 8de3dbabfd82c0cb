using System.Collections.Concurrent;
using System.Security.Cryptography;
using CloudStore.Contracts.Envelope;

namespace CloudStore.KeyServer.KeyStores;

/// <summary>
/// When a key file was last seen: its write time and length. A file replaced (rotation writes a new one) or
/// deleted (destruction) no longer has the stamp its opened keys were taken from.
/// </summary>
readonly record struct FileStamp(DateTime LastWriteUtc, long Length)
{
    /// <summary>One <c>stat</c> of <paramref name="path"/>; null when the file is gone.</summary>
    public static FileStamp? Of(string path)
    {
        var file = new FileInfo(path);
        return file.Exists ? new FileStamp(file.LastWriteTimeUtc, file.Length) : null;
    }
}

/// <summary>
/// <see cref="LocalKeyStore"/>'s private keys, once decrypted and imported, kept for the next unwrap. Opening a
/// key costs about five RSA operations (reading and decrypting the PKCS#8, OpenSSL's import, and the first
/// private operation on a new key, which builds its blinding and Montgomery values), and a player asks for a
/// few keys of the same organisation at a time.
/// <para>
/// An entry is used only while the key file it came from has the same <see cref="FileStamp"/>, which the store
/// checks with one <c>stat</c> per unwrap. So a destroyed key (its file deleted, by this instance or another
/// sharing the folder) is refused at the next unwrap everywhere, with no time-to-live window, and a rotated
/// file is read again. Entries unused for <see cref="IdleLifetime"/> are dropped and disposed (OpenSSL clears
/// the private numbers as it frees them), so the keys of organisations nobody is playing do not stay in memory.
/// </para>
/// <para>
/// An <see cref="RSA"/> taken from here can be disposed by another thread before it is used (dropped, replaced
/// or forgotten meanwhile); its use then throws <see cref="ObjectDisposedException"/> and the caller opens the
/// key afresh. OpenSSL keeps a key it is using alive until the call ends.
/// </para>
/// </summary>
sealed class OpenedKeyCache(TimeProvider time) : IDisposable
{
    /// <summary>How long a key nobody uses stays open.</summary>
    public static readonly TimeSpan IdleLifetime = TimeSpan.FromMinutes(10);

    /// <summary>At most this many keys open at once (a few KiB of memory each); the least recently used go first.</summary>
    public const int Capacity = 4096;

    static readonly TimeSpan SweepInterval = TimeSpan.FromMinutes(1);
    readonly ConcurrentDictionary<KeyEncryptionKeyId, Entry> _entries = new();
    long _nextSweep = time.GetTimestamp();

    sealed class Entry(RSA key, FileStamp stamp, long lastUsed)
    {
        public RSA Key { get; } = key;

        public FileStamp Stamp { get; } = stamp;

        public long LastUsed = lastUsed;
    }

    /// <summary>The opened key, if it was taken from the file as it is now (<paramref name="stamp"/>).</summary>
    public RSA? Get(KeyEncryptionKeyId id, FileStamp stamp)
    {
        SweepIfDue();
        if (_entries.TryGetValue(id, out var entry) && entry.Stamp == stamp)
        {
            Volatile.Write(ref entry.LastUsed, time.GetTimestamp());
            return entry.Key;
        }

        return null;
    }

    /// <summary>
    /// Keeps a key just opened from the file as it was at <paramref name="stamp"/>; the cache owns it from now on.
    /// An entry from an older file is replaced and disposed.
    /// </summary>
    public void Add(KeyEncryptionKeyId id, FileStamp stamp, RSA key)
    {
        var added = new Entry(key, stamp, time.GetTimestamp());
        while (true)
        {
            if (_entries.TryAdd(id, added))
            {
                break;
            }

            if (_entries.TryGetValue(id, out var current) && _entries.TryUpdate(id, added, current))
            {
                current.Key.Dispose();
                break;
            }
        }

        if (_entries.Count > Capacity)
        {
            DropLeastRecentlyUsed();
        }
    }

    /// <summary>Drops every opened version of the organisation's key in the region (it is being destroyed).</summary>
    public void Forget(Guid organizationId, string region)
    {
        foreach (var id in _entries.Keys.Where(id => id.OrganizationId == organizationId && id.Region == region))
        {
            Remove(id);
        }
    }

    void Remove(KeyEncryptionKeyId id)
    {
        if (_entries.TryRemove(id, out var entry))
        {
            entry.Key.Dispose();
        }
    }

    void SweepIfDue()
    {
        var now = time.GetTimestamp();
        var due = Volatile.Read(ref _nextSweep);
        if (now < due || Interlocked.CompareExchange(ref _nextSweep, now + (long)(SweepInterval.TotalSeconds * time.TimestampFrequency), due) != due)
        {
            return;
        }

        foreach (var pair in _entries)
        {
            if (time.GetElapsedTime(Volatile.Read(ref pair.Value.LastUsed), now) > IdleLifetime)
            {
                Remove(pair);
            }
        }
    }

    void DropLeastRecentlyUsed()
    {
        foreach (var pair in _entries.OrderBy(pair => Volatile.Read(ref pair.Value.LastUsed)).Take(_entries.Count - Capacity))
        {
            Remove(pair);
        }
    }

    /// <summary>Removes this entry only, not one that replaced it meanwhile.</summary>
    void Remove(KeyValuePair<KeyEncryptionKeyId, Entry> pair)
    {
        if (_entries.TryRemove(pair))
        {
            pair.Value.Key.Dispose();
        }
    }

    public void Dispose()
    {
        foreach (var id in _entries.Keys)
        {
            Remove(id);
        }
    }
}
