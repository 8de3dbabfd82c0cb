using System.Globalization;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Platform;
using Microsoft.EntityFrameworkCore;

namespace CloudStore.ControlPlane.Retention;

/// <summary>A change refused because of the camera's state, answered 409 with these words.</summary>
public sealed record CameraStateConflict(string Title, string Detail);

/// <summary>
/// Retention settings and legal holds of the caller's organisation. Every camera is looked up through
/// <see cref="CallerContext"/>, so another organisation's camera is simply not found.
/// </summary>
public sealed class LegalHolds(DirectoryDbContext db, CallerContext caller, AuditLog audit, TimeProvider time)
{
    /// <summary>The longest range one hold covers (ten years, the longest retention).</summary>
    public static readonly TimeSpan MaxRange = TimeSpan.FromDays(RetentionRules.MaxDays);

    public static Validation Check(CreateLegalHoldRequest request)
    {
        var validation = new Validation().Text(nameof(request.CaseReference), request.CaseReference, LegalHold.CaseReferenceLength);
        if (!validation.HasErrors && request.CaseReference.Any(c => char.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned))
        {
            validation.Add(nameof(request.CaseReference), "Printable characters only.");
        }

        // From 2020 on (TimeBounds), when recordings begin: a hold before that would hold nothing.
        return validation.TimeRange("from", request.From, "to", request.To, MaxRange);
    }

    public static Validation CheckDays(string field, int? days)
    {
        var validation = new Validation();
        if (days is { } value && !RetentionRules.IsValidDays(value))
        {
            validation.Add(field, $"From {RetentionRules.MinDays} to {RetentionRules.MaxDays} days.");
        }

        return validation;
    }

    /// <returns>The retention set; neither when the camera is not the caller's.</returns>
    public async Task<(CameraRetentionResponse? Set, CameraStateConflict? Conflict)> SetCameraRetentionAsync(Guid cameraId, int? days, CancellationToken cancellationToken)
    {
        if (await caller.CameraAsync(cameraId, cancellationToken) is not { Camera: var camera })
        {
            return (null, null);
        }

        if (camera.DeletedAt is not null)
        {
            // What happens to a deleted camera's recordings was decided when it was deleted.
            return (null, new CameraStateConflict("Camera deleted", "A deleted camera's retention cannot change: its recordings are deleted or kept as chosen when it was deleted."));
        }

        var organizationDefault = await db.Organizations.Where(o => o.Id == camera.OrganizationId).Select(o => o.DefaultRetentionDays).SingleAsync(cancellationToken);
        if (camera.RetentionDays != days)
        {
            var previous = camera.RetentionDays;
            camera.RetentionDays = days;
            audit.Add(camera.OrganizationId, caller.Caller.Actor, AuditActions.RetentionChanged, $"camera:{camera.Id}",
                $"success:{Days(previous)}->{Days(days)}");
            await db.SaveChangesAsync(cancellationToken);
        }

        return (new CameraRetentionResponse(camera.Id, camera.RetentionDays, camera.RetentionDays ?? organizationDefault), null);
    }

    public async Task<OrganizationRetentionResponse?> SetOrganizationRetentionAsync(int days, CancellationToken cancellationToken)
    {
        var who = caller.Caller;
        var organization = await db.Organizations.SingleOrDefaultAsync(o => o.Id == who.OrganizationId, cancellationToken);
        if (organization is null)
        {
            return null;
        }

        if (organization.DefaultRetentionDays != days)
        {
            var previous = organization.DefaultRetentionDays;
            organization.DefaultRetentionDays = days;
            audit.Add(organization.Id, who.Actor, AuditActions.RetentionChanged, $"organization:{organization.Id}", $"success:{previous}->{days}");
            await db.SaveChangesAsync(cancellationToken);
        }

        return new OrganizationRetentionResponse(organization.DefaultRetentionDays);
    }

    /// <returns>The hold placed; neither when the camera is not the caller's.</returns>
    public async Task<(LegalHoldResponse? Hold, CameraStateConflict? Conflict)> PlaceAsync(Guid cameraId, CreateLegalHoldRequest request, CancellationToken cancellationToken)
    {
        if (await caller.CameraAsync(cameraId, cancellationToken) is not { Camera: var camera })
        {
            return (null, null);
        }

        if (camera.RecordingsAfterDeletion == Devices.RecordingsChoice.Delete)
        {
            // The sweep is deleting its recordings; a hold placed now could keep only what happens to be left, by chance.
            return (null, new CameraStateConflict("Camera deleted with its recordings",
                "The camera was deleted with ?recordings=delete, so its recordings are being deleted; only holds placed before its deletion keep any."));
        }

        var who = caller.Caller;
        var hold = new LegalHold
        {
            Id = Guid.NewGuid(),
            OrganizationId = camera.OrganizationId,
            CameraId = camera.Id,
            From = Milliseconds(request.From),
            To = Milliseconds(request.To),
            CaseReference = request.CaseReference,
            CreatedAt = Milliseconds(time.GetUtcNow()),
            CreatedBy = who.Actor,
        };
        db.LegalHolds.Add(hold);
        audit.Add(camera.OrganizationId, who.Actor, AuditActions.LegalHoldPlaced, $"camera:{camera.Id}", $"success:hold={hold.Id}");
        await db.SaveChangesAsync(cancellationToken);
        return (ToResponse(hold), null);
    }

    /// <returns>The camera's holds, newest first; null when the camera is not the caller's.</returns>
    public async Task<IReadOnlyList<LegalHoldResponse>?> ListAsync(Guid cameraId, CancellationToken cancellationToken) =>
        await caller.CameraAsync(cameraId, cancellationToken) is null
            ? null
            : (await db.LegalHolds.AsNoTracking().Where(h => h.CameraId == cameraId).OrderByDescending(h => h.CreatedAt).ToListAsync(cancellationToken)).Select(ToResponse).ToList();

    /// <summary>
    /// Releases a hold; releasing it again changes nothing. The release is one conditional update, so of
    /// concurrent releases exactly one releases (and is audited). From then on retention applies to its range.
    /// </summary>
    public async Task<LegalHoldResponse?> ReleaseAsync(Guid cameraId, Guid holdId, CancellationToken cancellationToken)
    {
        if (await caller.CameraAsync(cameraId, cancellationToken) is not { Camera: var camera })
        {
            return null;
        }

        var who = caller.Caller;
        DateTimeOffset? now = time.GetUtcNow();
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            var released = await db.LegalHolds.Where(h => h.Id == holdId && h.CameraId == cameraId && h.ReleasedAt == null)
                .ExecuteUpdateAsync(update => update.SetProperty(h => h.ReleasedAt, now).SetProperty(h => h.ReleasedBy, who.Actor), cancellationToken);
            if (released == 1)
            {
                audit.Add(camera.OrganizationId, who.Actor, AuditActions.LegalHoldReleased, $"camera:{cameraId}", $"success:hold={holdId}");
                await db.SaveChangesAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        return await db.LegalHolds.AsNoTracking().SingleOrDefaultAsync(h => h.Id == holdId && h.CameraId == cameraId, cancellationToken) is { } hold
            ? ToResponse(hold)
            : null;
    }

    /// <summary>The holds of a camera (already resolved for the caller) that overlap a range, for the timeline.</summary>
    public async Task<IReadOnlyList<LegalHoldResponse>> OverlappingAsync(Guid cameraId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken) =>
        (await db.LegalHolds.AsNoTracking().Where(h => h.CameraId == cameraId && h.From < to && h.To > from).OrderBy(h => h.From).ToListAsync(cancellationToken))
            .Select(ToResponse).ToList();

    /// <summary>What the directory stores (Unix milliseconds), so the answer equals what is read back later.</summary>
    static DateTimeOffset Milliseconds(DateTimeOffset value) => DateTimeOffset.FromUnixTimeMilliseconds(value.ToUnixTimeMilliseconds());

    static string Days(int? days) => days?.ToString(CultureInfo.InvariantCulture) ?? "default";

    static LegalHoldResponse ToResponse(LegalHold h) => new(h.Id, h.CameraId, h.From, h.To, h.CaseReference, h.CreatedAt, h.CreatedBy, h.ReleasedAt, h.ReleasedBy);
}
