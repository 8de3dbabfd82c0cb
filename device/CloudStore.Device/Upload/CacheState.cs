using System.Text.Json;
using System.Text.Json.Serialization;
using CloudStore.Contracts;

namespace CloudStore.Device.Upload;

/// <summary>
/// What the stream cache remembers across restarts besides its items, the same few hundred bytes however
/// long the camera runs: high-water marks rather than lists. Not thread-safe: <see cref="StreamCache"/> holds its lock.
/// </summary>
public sealed class CacheState
{
    /// <summary>Runs of dropped sequence numbers kept (the most recent); older ones are only in the log (event 1003).</summary>
    public const int MaxDroppedRanges = 64;

    /// <summary>Source folders whose progress is kept (the most recently used).</summary>
    public const int MaxTakenFolders = 16;

    /// <summary>The next segment's sequence number: never reused, even once every segment has left the cache.</summary>
    public long NextSequence { get; set; }

    /// <summary>Runs of sequence numbers dropped because the cache was full, oldest first.</summary>
    public List<SequenceRange> Dropped { get; set; } = [];

    /// <summary>
    /// For each source folder the user keeps (a folder source), the start of the last segment taken in, most
    /// recently used last: a restart takes in only later segments. ffmpeg's own working folders are not
    /// listed: each run makes a new one and deletes it.
    /// </summary>
    public List<TakenThrough> Taken { get; set; } = [];

    /// <summary>The last public key received with a grant, so encryption can go on while the link is down.</summary>
    public PublicKeyResponse? PublicKey { get; set; }

    public sealed record SequenceRange(long First, long Last);

    public sealed record TakenThrough(string Folder, DateTimeOffset Through);

    /// <summary>One journal line. Applying a change twice changes nothing, so a journal replayed over a newer snapshot is harmless.</summary>
    public sealed record Change
    {
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public long? NextSequence { get; init; }

        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public long[]? Dropped { get; init; }

        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public TakenThrough? Taken { get; init; }

        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public PublicKeyResponse? PublicKey { get; init; }
    }

    /// <summary>The snapshot with the journal's changes applied; a last line cut short by a crash is ignored.</summary>
    public static CacheState Load(string snapshotPath, string journalPath)
    {
        var state = File.Exists(snapshotPath) ? JsonSerializer.Deserialize<CacheState>(File.ReadAllBytes(snapshotPath)) ?? new() : new();
        if (File.Exists(journalPath))
        {
            foreach (var line in File.ReadLines(journalPath))
            {
                Change? change;
                try
                {
                    change = JsonSerializer.Deserialize<Change>(line);
                }
                catch (JsonException)
                {
                    continue;
                }

                if (change is not null)
                {
                    state.Apply(change);
                }
            }
        }

        return state;
    }

    public void Apply(Change change)
    {
        if (change.NextSequence is { } next)
        {
            NextSequence = Math.Max(NextSequence, next);
        }

        foreach (var sequence in change.Dropped ?? [])
        {
            AddDropped(sequence);
        }

        if (change.Taken is { } taken)
        {
            var through = taken.Through;
            if (Taken.FindIndex(t => t.Folder == taken.Folder) is var at and >= 0)
            {
                through = Taken[at].Through > through ? Taken[at].Through : through;
                Taken.RemoveAt(at);
            }

            Taken.Add(taken with { Through = through });
            if (Taken.Count > MaxTakenFolders)
            {
                Taken.RemoveRange(0, Taken.Count - MaxTakenFolders);
            }
        }

        if (change.PublicKey is { } key)
        {
            PublicKey = key;
        }
    }

    void AddDropped(long sequence)
    {
        var at = Dropped.FindIndex(r => r.Last + 1 >= sequence);
        if (at < 0)
        {
            Dropped.Add(new SequenceRange(sequence, sequence));
        }
        else if (Dropped[at].First <= sequence && sequence <= Dropped[at].Last)
        {
            return;
        }
        else if (Dropped[at].Last + 1 == sequence)
        {
            Dropped[at] = Dropped[at] with { Last = sequence };
            if (at + 1 < Dropped.Count && Dropped[at + 1].First == sequence + 1)
            {
                Dropped[at] = Dropped[at] with { Last = Dropped[at + 1].Last };
                Dropped.RemoveAt(at + 1);
            }
        }
        else if (Dropped[at].First - 1 == sequence)
        {
            Dropped[at] = Dropped[at] with { First = sequence };
        }
        else
        {
            Dropped.Insert(at, new SequenceRange(sequence, sequence));
        }

        if (Dropped.Count > MaxDroppedRanges)
        {
            Dropped.RemoveRange(0, Dropped.Count - MaxDroppedRanges);
        }
    }
}
