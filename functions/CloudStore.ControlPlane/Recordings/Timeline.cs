namespace CloudStore.ControlPlane.Recordings;

/// <summary>A stretch of continuous recording.</summary>
public sealed record RecordedSpan(DateTimeOffset Start, DateTimeOffset End, int Segments);

/// <summary>The timeline of a camera over a range: what was recorded, and the gaps between, explicitly.</summary>
/// <param name="Holds">The camera's legal holds (active and released) overlapping the range; held recordings outlive retention.</param>
public sealed record TimelineResponse(
    Guid CameraId, DateTimeOffset From, DateTimeOffset To, IReadOnlyList<RecordedSpan> Spans, IReadOnlyList<TimeGap> Gaps, IReadOnlyList<Contracts.LegalHoldResponse>? Holds = null);

public sealed record TimeGap(DateTimeOffset Start, DateTimeOffset End);

public static class Timeline
{
    /// <summary>The gaps of <paramref name="spans"/> (in time order) within <paramref name="from"/>..<paramref name="to"/>.</summary>
    public static IReadOnlyList<TimeGap> Gaps(IReadOnlyList<RecordedSpan> spans, DateTimeOffset from, DateTimeOffset to)
    {
        var gaps = new List<TimeGap>();
        var cursor = from;
        foreach (var span in spans)
        {
            if (span.Start > cursor)
            {
                gaps.Add(new TimeGap(cursor, span.Start < to ? span.Start : to));
            }

            cursor = span.End > cursor ? span.End : cursor;
        }

        if (cursor < to)
        {
            gaps.Add(new TimeGap(cursor, to));
        }

        return gaps;
    }
}
