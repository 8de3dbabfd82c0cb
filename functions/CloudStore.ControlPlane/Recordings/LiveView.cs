using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Auth;
using CloudStore.ControlPlane.Credentials;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Platform;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CloudStore.ControlPlane.Recordings;

/// <summary>The <c>Live</c> section.</summary>
public sealed class LiveOptions
{
    public const string Section = "Live";

    /// <summary>How far back the live playlist reaches: the only segments, and so the only keys, a viewer is ever given.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a viewer's grant for one data key lasts (the playlist is reloaded every segment, with fresh grants).</summary>
    public TimeSpan GrantLifetime { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long the read URLs of a live playlist stay valid.</summary>
    public TimeSpan ReadUrlLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A person watching a camera live is audited once per this period, not at each playlist reload.</summary>
    public TimeSpan AuditEvery { get; set; } = TimeSpan.FromMinutes(10);
}

/// <summary>
/// Signs live grants (<see cref="LiveGrant"/>): the key server opens a data key for a viewer only with one, and the
/// live playlist is the only place that puts one in a key URI, for keys of segments in the live window.
/// Signed with the access tokens' key, so the key server checks them against the keys it already trusts.
/// </summary>
public sealed class LiveGrants(SigningKeys keys, IOptions<AuthOptions> auth, IOptions<LiveOptions> live)
{
    readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    public string Issue(Caller viewer, Guid cameraId, Guid dataKeyId, DateTimeOffset now) => _handler.CreateToken(new SecurityTokenDescriptor
    {
        Issuer = auth.Value.Issuer,
        Audience = Audiences.KeyServer,
        Claims = new Dictionary<string, object>
        {
            [ClaimNames.Subject] = viewer.Subject,
            [ClaimNames.Organization] = viewer.OrganizationId.ToString(),
            [LiveGrant.Camera] = cameraId.ToString(),
            [LiveGrant.DataKey] = dataKeyId.ToString("N"),
        },
        IssuedAt = now.UtcDateTime,
        NotBefore = now.UtcDateTime,
        Expires = (now + live.Value.GrantLifetime).UtcDateTime,
        SigningCredentials = keys.Credentials,
        TokenType = LiveGrant.TokenType,
    });
}

/// <summary>
/// Live view: a sliding HLS playlist (RFC 8216, no playlist type, no end) of a camera's newest recording, for every
/// person of the organisation. Viewers may watch live only: they get no timeline, no recorded playlist and no export,
/// and their key URIs carry a live grant for exactly the keys of the segments listed, which the key server requires of
/// them. Administrators and operators watch live the same way, without grants (the key server opens any key of their
/// organisation for them).
/// </summary>
public static class LiveEndpoints
{
    public static IServiceCollection AddLiveView(this IServiceCollection services)
    {
        services.AddOptions<LiveOptions>().BindConfiguration(LiveOptions.Section)
            .Validate(o => o.Window >= TimeSpan.FromSeconds(30) && o.Window <= TimeSpan.FromMinutes(15), "Live:Window must be from 30 seconds to 15 minutes.")
            .Validate(o => o.GrantLifetime >= TimeSpan.FromSeconds(30) && o.GrantLifetime <= TimeSpan.FromMinutes(15), "Live:GrantLifetime must be from 30 seconds to 15 minutes.")
            .Validate(o => o.ReadUrlLifetime >= TimeSpan.FromMinutes(1) && o.ReadUrlLifetime <= TimeSpan.FromHours(1), "Live:ReadUrlLifetime must be from 1 minute to 1 hour.")
            .Validate(o => o.AuditEvery >= TimeSpan.Zero && o.AuditEvery <= TimeSpan.FromHours(1), "Live:AuditEvery must be at most an hour.")
            .ValidateOnStart();
        return services.AddSingleton<LiveGrants>();
    }

    public static IEndpointRouteBuilder MapLiveView(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/cameras/{id:guid}/live.m3u8", GetLivePlaylist).WithTags("Playback").WithName("GetLivePlaylist")
            .RequireAuthorization(Policies.Member)
            .WithSummary("A live HLS playlist of the camera's newest recording (the last minutes only), for every role; a viewer's key URIs carry live grants.");
        return app;
    }

    static async Task<Results<ContentHttpResult, ProblemHttpResult>> GetLivePlaylist(
        Guid id,
        CallerContext caller,
        RecordingIndex recordings,
        LiveGrants grants,
        AuditLog audit,
        DirectoryDbContext db,
        IOptions<LiveOptions> options,
        IOptions<KeyServerOptions> keyServer,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (await caller.CameraAsync(id, cancellationToken) is not { Region: { } region })
        {
            return Problems.NotFound("camera");
        }

        var now = time.GetUtcNow();
        var who = caller.Caller;
        var live = options.Value;
        Func<Guid, string>? grantFor = who.Role == Roles.Viewer ? dataKeyId => grants.Issue(who, id, dataKeyId, now) : null;
        var (firstSequence, segments) = await recordings.LiveSegmentsAsync(region, id, now - live.Window, live.ReadUrlLifetime, keyServer.Value.Url, grantFor, cancellationToken);

        // Players reload a live playlist every segment: one audit entry per person and camera per period says who watched.
        var target = $"camera:{id}";
        var since = now - live.AuditEvery;
        if (!await db.AuditEntries.AnyAsync(
                e => e.OrganizationId == who.OrganizationId && e.Time > since && e.Action == AuditActions.LiveWatched && e.Actor == who.Actor && e.Target == target,
                cancellationToken))
        {
            audit.Add(who.OrganizationId, who.Actor, AuditActions.LiveWatched, target, AuditLog.Success);
            await db.SaveChangesAsync(cancellationToken);
        }

        return TypedResults.Text(HlsPlaylist.BuildLive(segments, firstSequence), "application/vnd.apple.mpegurl");
    }
}
