using System.Globalization;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Auth;
using CloudStore.ControlPlane.Credentials;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Platform;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace CloudStore.ControlPlane.Recordings;

/// <summary>The <c>Playback</c> section.</summary>
public sealed class PlaybackOptions
{
    public const string Section = "Playback";

    /// <summary>How long the read URLs in a playlist stay valid.</summary>
    public TimeSpan ReadUrlLifetime { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>
/// Step H: the timeline of a camera and HLS playlists of its recordings, for administrators and
/// operators of the camera's organisation. Segment URIs are short-lived read-only URLs straight to the
/// regional bucket (media never flows through our hosts); key URIs name the key server and carry the
/// wrapped key, which only the key server can open. Each file's SHA-256 travels in the playlist, so the
/// player can refuse a file changed in storage; it reports one to <c>tamper-reports</c> (<see cref="TamperReports"/>).
/// </summary>
public static class PlaybackEndpoints
{
    public static readonly TimeSpan MaxTimelineRange = TimeSpan.FromDays(93);
    public static readonly TimeSpan MaxPlaylistRange = TimeSpan.FromDays(2);

    public static IEndpointRouteBuilder MapPlayback(this IEndpointRouteBuilder app)
    {
        var playback = app.MapGroup("/api/cameras/{id:guid}").WithTags("Playback").RequireAuthorization(Policies.Recordings);
        playback.MapGet("/timeline", GetTimeline).WithName("GetTimeline").WithSummary("Recorded spans of a camera in a time range, with the gaps.");
        playback.MapGet("/playlist.m3u8", GetPlaylist).WithName("GetPlaylist")
            .WithSummary("An HLS playlist (RFC 8216) of a camera's recordings in a time range, with each encrypted file's SHA-256 from the index.");
        playback.MapPost("/tamper-reports", ReportTamper).WithName("ReportTamper")
            .WithSummary("Report a stored segment (or the init segment it plays with) whose SHA-256 is not the index's: marked and audited at its first report.");
        playback.MapPost("/exports", RecordExport).WithName("RecordExport")
            .WithSummary("Record (audit) an export of a range of the camera's recordings, which the browser then makes from the playlist of that range.");
        return app;
    }

    static async Task<Results<Ok<ExportResponse>, ValidationProblem, ProblemHttpResult>> RecordExport(
        Guid id, ExportRequest request, CallerContext caller, AuditLog audit, DirectoryDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var validation = new Validation().TimeRange("from", request.From, "to", request.To, MaxPlaylistRange);
        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        if (await caller.CameraAsync(id, cancellationToken) is null)
        {
            return Problems.NotFound("camera");
        }

        var now = time.GetUtcNow();
        var who = caller.Caller;
        audit.Add(who.OrganizationId, who.Actor, AuditActions.Exported, $"camera:{id}",
            string.Create(CultureInfo.InvariantCulture, $"success:{request.From.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}/{request.To.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}"));
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new ExportResponse(id, request.From, request.To, now));
    }

    static async Task<Results<Ok<TimelineResponse>, ValidationProblem, ProblemHttpResult>> GetTimeline(
        Guid id, DateTimeOffset from, DateTimeOffset to, CallerContext caller, RecordingIndex recordings, Retention.LegalHolds holds, CancellationToken cancellationToken)
    {
        var validation = new Validation().TimeRange(nameof(from), from, nameof(to), to, MaxTimelineRange);
        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        if (await caller.CameraAsync(id, cancellationToken) is not { Region: { } region })
        {
            return Problems.NotFound("camera");
        }

        var spans = await recordings.SpansAsync(region, id, from, to, cancellationToken);
        return TypedResults.Ok(new TimelineResponse(id, from, to, spans, Timeline.Gaps(spans, from, to), await holds.OverlappingAsync(id, from, to, cancellationToken)));
    }

    static async Task<Results<ContentHttpResult, ValidationProblem, ProblemHttpResult>> GetPlaylist(
        Guid id,
        DateTimeOffset from,
        DateTimeOffset to,
        CallerContext caller,
        RecordingIndex recordings,
        AuditLog audit,
        DirectoryDbContext db,
        IOptions<PlaybackOptions> options,
        IOptions<KeyServerOptions> keyServer,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var validation = new Validation().TimeRange(nameof(from), from, nameof(to), to, MaxPlaylistRange);
        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        if (await caller.CameraAsync(id, cancellationToken) is not { Region: { } region })
        {
            return Problems.NotFound("camera");
        }

        var segments = await recordings.PlaylistSegmentsAsync(region, id, from, to, options.Value.ReadUrlLifetime, keyServer.Value.Url, cancellationToken);
        var who = caller.Caller;
        audit.Add(who.OrganizationId, who.Actor, AuditActions.PlaylistIssued, $"camera:{id}", $"success:{from:O}/{to:O};segments={segments.Count}");
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Text(HlsPlaylist.Build(segments, closed: to <= time.GetUtcNow()), "application/vnd.apple.mpegurl");
    }

    static async Task<Results<Ok<TamperReportResponse>, ValidationProblem, ProblemHttpResult>> ReportTamper(
        Guid id, TamperReportRequest request, TamperReports reports, TimeProvider time, CancellationToken cancellationToken)
    {
        var validation = TamperReports.Check(request, time.GetUtcNow());
        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        return await reports.ReportAsync(id, request, cancellationToken) switch
        {
            ({ } report, _) => TypedResults.Ok(report),
            (_, var missing) => Problems.NotFound(missing ?? "segment"),
        };
    }
}
