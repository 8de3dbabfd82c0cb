namespace CloudStore.Contracts;

/// <summary>
/// A player found that an encrypted file of a camera's recording, as fetched from storage, does not have the SHA-256
/// the index holds for it: the media segment that starts at <paramref name="SegmentStart"/> (<see cref="Segment"/>),
/// or the init segment that media segment plays with (<see cref="Init"/>).
/// </summary>
/// <param name="SegmentStart">The media segment's start, to the millisecond, as the playlist's <c>EXT-X-PROGRAM-DATE-TIME</c> gives it.</param>
/// <param name="Part"><see cref="Segment"/> or <see cref="Init"/>.</param>
public sealed record TamperReportRequest(DateTimeOffset SegmentStart, string Part)
{
    public const string Segment = "segment";
    public const string Init = "init";
}

/// <param name="SegmentStart">The reported media segment's start.</param>
/// <param name="SegmentEnd">Its end.</param>
/// <param name="FirstReportedAt">When the altered file was first reported, by anyone: it is audited once, then.</param>
/// <param name="AlreadyReported">True when an earlier report named the same file (nothing new was audited).</param>
public sealed record TamperReportResponse(Guid CameraId, DateTimeOffset SegmentStart, DateTimeOffset SegmentEnd, string Part, DateTimeOffset FirstReportedAt, bool AlreadyReported);

/// <summary>An export about to be made in the browser: the range of a camera's recordings it covers (UTC).</summary>
public sealed record ExportRequest(DateTimeOffset From, DateTimeOffset To);

/// <summary>The export, recorded in the audit log: who, camera, range and when.</summary>
public sealed record ExportResponse(Guid CameraId, DateTimeOffset From, DateTimeOffset To, DateTimeOffset RecordedAt);
