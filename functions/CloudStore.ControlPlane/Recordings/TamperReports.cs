using System.Globalization;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Platform;

namespace CloudStore.ControlPlane.Recordings;

/// <summary>
/// Reports from players that a camera's stored file is not what the camera indexed: its SHA-256, computed in the
/// browser over the ciphertext as fetched, differs from the index's (which the player got in the playlist). The claim
/// is checked cheaply: the segment must be in the index of a camera of the caller's organisation. The file is marked
/// in the index and audited (<see cref="AuditActions.TamperDetected"/>) once, at its first report; later reports of the
/// same file, by anyone, change nothing and write nothing, so no client can flood the audit log. A mark whose entry could
/// not be written is taken back, so the next report audits it.
/// </summary>
public sealed class TamperReports(CallerContext caller, RecordingIndex recordings, AuditLog audit, DirectoryDbContext db)
{
    public static Validation Check(TamperReportRequest request, DateTimeOffset now)
    {
        var validation = new Validation();
        if (request.Part is not (TamperReportRequest.Segment or TamperReportRequest.Init))
        {
            validation.Add("part", $"'{TamperReportRequest.Segment}' (the media segment) or '{TamperReportRequest.Init}' (the init segment it plays with).");
        }

        if (request.SegmentStart < TimeBounds.Earliest || request.SegmentStart > now + SegmentValidation.MaxClockAhead)
        {
            validation.Add("segmentStart", "Not a plausible recording time (in the future, or before 2020).");
        }

        return validation;
    }

    /// <returns>The report, or what was not found (the camera in the caller's organisation, or a segment starting then).</returns>
    public async Task<(TamperReportResponse? Report, string? NotFound)> ReportAsync(Guid cameraId, TamperReportRequest request, CancellationToken cancellationToken)
    {
        if (await caller.CameraAsync(cameraId, cancellationToken) is not { Region: { } region })
        {
            return (null, "camera");
        }

        var init = request.Part == TamperReportRequest.Init;
        if (await recordings.MarkAlteredAsync(region, cameraId, request.SegmentStart, init, cancellationToken) is not { } altered)
        {
            return (null, "segment starting then");
        }

        if (altered.FirstReport)
        {
            var who = caller.Caller;
            audit.Add(who.OrganizationId, who.Actor, AuditActions.TamperDetected, $"camera:{cameraId}", Outcome(request.Part, altered));
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (Exception)
            {
                // The mark (regional index) and the entry (directory) are in two databases: without its entry the mark
                // would make every later report a repeat, and the event would never be audited. Take it back.
                await recordings.UnmarkAlteredAsync(region, cameraId, altered, init, CancellationToken.None);
                throw;
            }
        }

        return (new TamperReportResponse(cameraId, altered.Start, altered.End, request.Part, altered.FirstReportedAt, AlreadyReported: !altered.FirstReport), null);
    }

    /// <summary>For example <c>failure:segment-altered;seq=42;2026-11-27T10:00:04.000Z/2026-11-27T10:00:08.000Z</c> (under the 100 characters an outcome holds).</summary>
    static string Outcome(string part, AlteredFile altered) =>
        AuditLog.Failure(string.Create(CultureInfo.InvariantCulture, $"{part}-altered;seq={altered.Sequence};{Utc(altered.Start)}/{Utc(altered.End)}"));

    static string Utc(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
