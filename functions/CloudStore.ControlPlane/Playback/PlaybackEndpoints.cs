using System.Data.Common;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Auth;
using CloudStore.ControlPlane.Credentials;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Platform;
using CloudStore.ControlPlane.Regional;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace CloudStore.ControlPlane.Playback;

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
/// wrapped key, which only the key server can open.
/// </summary>
public static class PlaybackEndpoints
{
    public static readonly TimeSpan MaxTimelineRange = TimeSpan.FromDays(93);
    public static readonly TimeSpan MaxPlaylistRange = TimeSpan.FromDays(2);

    public static IEndpointRouteBuilder MapPlayback(this IEndpointRouteBuilder app)
    {
        var playback = app.MapGroup("/api/cameras/{id:guid}").WithTags("Playback").RequireAuthorization(Policies.Recordings);
        playback.MapGet("/timeline", GetTimeline).WithName("GetTimeline").WithSummary("Recorded spans of a camera in a time range, with the gaps.");
        playback.MapGet("/playlist.m3u8", GetPlaylist).WithName("GetPlaylist").WithSummary("An HLS playlist (RFC 8216) of a camera's recordings in a time range.");
        return app;
    }

    static Validation CheckRange(DateTimeOffset from, DateTimeOffset to, TimeSpan max)
    {
        var validation = new Validation();
        if (to <= from || to - from > max)
        {
            validation.Add("to", $"'to' must be after 'from', at most {max.TotalDays:0} days later.");
        }

        return validation;
    }

    static async Task<Results<Ok<TimelineResponse>, ValidationProblem, ProblemHttpResult>> GetTimeline(
        Guid id, DateTimeOffset from, DateTimeOffset to, HttpContext context, DirectoryDbContext db, RegionCatalog regions, CancellationToken cancellationToken)
    {
        var validation = CheckRange(from, to, MaxTimelineRange);
        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        var (camera, region) = await FindAsync(id, context, db, cancellationToken);
        if (camera is null || region is null || !regions.IsConfigured(region))
        {
            return Problems.NotFound("camera");
        }

        await using var index = regions.OpenIndex(region);
        var spans = await SpansAsync(index.Database.GetDbConnection(), id, from, to, cancellationToken);
        return TypedResults.Ok(new TimelineResponse(id, from, to, spans, Timeline.Gaps(spans, from, to)));
    }

    static async Task<Results<ContentHttpResult, ValidationProblem, ProblemHttpResult>> GetPlaylist(
        Guid id,
        DateTimeOffset from,
        DateTimeOffset to,
        HttpContext context,
        DirectoryDbContext db,
        RegionCatalog regions,
        AuditLog audit,
        IOptions<PlaybackOptions> options,
        IOptions<KeyServerOptions> keyServer,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var validation = CheckRange(from, to, MaxPlaylistRange);
        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        var caller = Caller.From(context.User);
        var (camera, region) = await FindAsync(id, context, db, cancellationToken);
        if (camera is null || region is null || !regions.IsConfigured(region))
        {
            return Problems.NotFound("camera");
        }

        await using var index = regions.OpenIndex(region);
        var earliest = from.AddMilliseconds(-Segments.SegmentValidation.MaxDurationMs);
        var rows = (await index.Segments.AsNoTracking()
                .Where(s => s.CameraId == id && s.StartTime > earliest && s.StartTime < to)
                .OrderBy(s => s.StartTime)
                .Select(s => new { s.StartTime, s.DurationMs, s.ObjectName, s.Iv, s.KeyId, s.InitObjectName })
                .ToListAsync(cancellationToken))
            .Where(s => s.StartTime.AddMilliseconds(s.DurationMs) > from)
            .ToList();
        var initNames = rows.Select(r => r.InitObjectName).Distinct().ToList();
        var inits = await index.InitSegments.AsNoTracking().Where(i => i.CameraId == id && initNames.Contains(i.ObjectName))
            .ToDictionaryAsync(i => i.ObjectName, i => i.Iv, StringComparer.Ordinal, cancellationToken);
        var keyIds = rows.Select(r => r.KeyId).Distinct().ToList();
        var keys = await index.WrappedKeys.AsNoTracking().Where(k => keyIds.Contains(k.KeyId)).ToDictionaryAsync(k => k.KeyId, k => k.Wrapped, cancellationToken);

        var now = time.GetUtcNow();
        var urls = await regions.Storage(region).ReadUrlsAsync(id, [.. rows.Select(r => r.ObjectName).Concat(initNames)], now, now + options.Value.ReadUrlLifetime, cancellationToken);
        var keyServerUrl = keyServer.Value.Url.TrimEnd('/');
        var segments = rows
            .Where(r => inits.ContainsKey(r.InitObjectName) && keys.ContainsKey(r.KeyId))
            .Select(r => new PlaylistSegment(
                r.StartTime, r.DurationMs, urls[r.ObjectName], r.Iv,
                $"{keyServerUrl}/v1/keys/{r.KeyId:N}?wrapped={Base64UrlEncoder.Encode(keys[r.KeyId])}",
                urls[r.InitObjectName], inits[r.InitObjectName]))
            .ToList();

        audit.Add(caller.OrganizationId, caller.Actor, AuditActions.PlaylistIssued, $"camera:{id}", $"success:{from:O}/{to:O};segments={segments.Count}");
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Text(HlsPlaylist.Build(segments, closed: to <= now), "application/vnd.apple.mpegurl");
    }

    static async Task<(Devices.Camera? Camera, string? Region)> FindAsync(Guid id, HttpContext context, DirectoryDbContext db, CancellationToken cancellationToken)
    {
        var caller = Caller.From(context.User);
        var camera = await db.Cameras.SingleOrDefaultAsync(c => c.Id == id && c.OrganizationId == caller.OrganizationId, cancellationToken);
        var region = await db.Organizations.Where(o => o.Id == caller.OrganizationId).Select(o => o.HomeRegion).SingleOrDefaultAsync(cancellationToken);
        return (camera, region);
    }

    /// <summary>
    /// Merges a camera's segments into spans inside the database (window functions, SQLite 3.25+ and
    /// PostgreSQL alike), so a timeline of months reads a few rows, not hundreds of thousands.
    /// </summary>
    static async Task<IReadOnlyList<RecordedSpan>> SpansAsync(DbConnection connection, Guid cameraId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        if (connection.State != System.Data.ConnectionState.Open)
        {
            await connection.OpenAsync(cancellationToken);
        }

        await using var command = connection.CreateCommand();
        command.CommandText = """
            WITH ordered AS (
              SELECT StartTime AS s, StartTime + DurationMs AS e,
                     LAG(StartTime + DurationMs) OVER (ORDER BY StartTime) AS previous_end
              FROM Segments
              WHERE CameraId = $camera AND StartTime < $to AND StartTime + DurationMs > $from),
            marked AS (
              SELECT s, e, SUM(CASE WHEN previous_end IS NULL OR s - previous_end > $tolerance THEN 1 ELSE 0 END)
                     OVER (ORDER BY s ROWS UNBOUNDED PRECEDING) AS span
              FROM ordered)
            SELECT MIN(s), MAX(e), COUNT(*) FROM marked GROUP BY span ORDER BY 1
            """;
        Add(command, "$camera", cameraId.ToString().ToUpperInvariant());
        Add(command, "$from", from.ToUnixTimeMilliseconds());
        Add(command, "$to", to.ToUnixTimeMilliseconds());
        Add(command, "$tolerance", (long)HlsPlaylist.GapTolerance.TotalMilliseconds);
        var spans = new List<RecordedSpan>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            spans.Add(new RecordedSpan(
                DateTimeOffset.FromUnixTimeMilliseconds(Math.Max(reader.GetInt64(0), from.ToUnixTimeMilliseconds())),
                DateTimeOffset.FromUnixTimeMilliseconds(Math.Min(reader.GetInt64(1), to.ToUnixTimeMilliseconds())),
                reader.GetInt32(2)));
        }

        return spans;
    }

    static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
