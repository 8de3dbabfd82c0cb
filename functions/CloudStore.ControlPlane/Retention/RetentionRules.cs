namespace CloudStore.ControlPlane.Retention;

/// <summary>A segment as the retention decision sees it: its index row id, when it ran, and its object.</summary>
public readonly record struct RetentionSegment(long Id, DateTimeOffset Start, int DurationMs, string ObjectName)
{
    public DateTimeOffset End => Start.AddMilliseconds(DurationMs);
}

/// <summary>A time range under legal hold (half-open: <see cref="From"/> included, <see cref="To"/> not).</summary>
public readonly record struct HeldRange(DateTimeOffset From, DateTimeOffset To);

/// <summary>
/// What retention deletes, without I/O: segment rows, the time now, the camera's retention and its active
/// holds in; what may be deleted out. The sweep only carries out these decisions.
/// </summary>
public static class RetentionRules
{
    public const int MinDays = 1;
    public const int MaxDays = 3650;
    public const int DefaultDays = 30;

    public static bool IsValidDays(int days) => days is >= MinDays and <= MaxDays;

    /// <summary>Recordings that ended at or before this instant are past their retention.</summary>
    public static DateTimeOffset Cutoff(DateTimeOffset now, int retentionDays) => now - TimeSpan.FromDays(retentionDays);

    /// <summary>
    /// The cutoff of a camera: its retention's, or, for a camera deleted with its recordings, the end of time: every segment
    /// goes, however young, and only holds keep any.
    /// </summary>
    public static DateTimeOffset Cutoff(DateTimeOffset now, int retentionDays, bool recordingsDeleted) =>
        recordingsDeleted ? DateTimeOffset.MaxValue : Cutoff(now, retentionDays);

    /// <summary>Whether any hold overlaps the segment (a hold that touches a segment keeps all of it).</summary>
    public static bool IsHeld(RetentionSegment segment, IReadOnlyCollection<HeldRange> holds) =>
        holds.Any(h => h.From < segment.End && segment.Start < h.To);

    /// <summary>
    /// The segments to delete now, oldest first, at most <paramref name="max"/>: those whose end is at or before
    /// the cutoff and that no hold overlaps. A segment still running at the cutoff is kept whole.
    /// </summary>
    public static IReadOnlyList<RetentionSegment> SegmentsToDelete(
        IEnumerable<RetentionSegment> segments, DateTimeOffset now, int retentionDays, IReadOnlyCollection<HeldRange> holds, int max) =>
        SegmentsToDelete(segments, Cutoff(now, retentionDays), holds, max);

    /// <summary>The same, for a given <paramref name="cutoff"/>.</summary>
    public static IReadOnlyList<RetentionSegment> SegmentsToDelete(IEnumerable<RetentionSegment> segments, DateTimeOffset cutoff, IReadOnlyCollection<HeldRange> holds, int max)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(max);
        return [.. segments.Where(s => s.End <= cutoff && !IsHeld(s, holds)).OrderBy(s => s.Start).ThenBy(s => s.Id).Take(max)];
    }

    /// <summary>
    /// Init segments or wrapped keys to delete: those no remaining segment (or init segment) uses, indexed at or
    /// before the cutoff. The age condition keeps one just registered for segments that are still being uploaded.
    /// </summary>
    public static IReadOnlyList<T> UnreferencedToDelete<T>(
        IEnumerable<(T Name, DateTimeOffset IndexedAt)> candidates, IReadOnlySet<T> stillReferenced, DateTimeOffset now, int retentionDays) =>
        UnreferencedToDelete(candidates, stillReferenced, Cutoff(now, retentionDays));

    /// <summary>The same, for a given <paramref name="cutoff"/>.</summary>
    public static IReadOnlyList<T> UnreferencedToDelete<T>(IEnumerable<(T Name, DateTimeOffset IndexedAt)> candidates, IReadOnlySet<T> stillReferenced, DateTimeOffset cutoff) =>
        [.. candidates.Where(c => c.IndexedAt <= cutoff && !stillReferenced.Contains(c.Name)).Select(c => c.Name)];
}
