using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Platform;
using Microsoft.EntityFrameworkCore;

namespace CloudStore.ControlPlane.Licences;

/// <summary>
/// An organisation's licences: added by operations, allocated when a camera is enabled and freed when it is
/// disabled, lapsed when never allocated within the allocation window. Allocation is one conditional UPDATE,
/// so concurrent enables can never hand one licence to two cameras or two licences to one camera.
/// </summary>
public sealed class LicenceService(DirectoryDbContext db, AuditLog audit, TimeProvider time)
{
    public sealed record Added(int Count, string? Refusal);

    /// <summary>Operations: adds <paramref name="count"/> licences. Refused once the allocation window has ended.</summary>
    public Task<Added> AddCountAsync(Guid organizationId, int count, CancellationToken cancellationToken) =>
        count is < 1 or > LicenceRules.MaxCount
            ? Task.FromResult(new Added(0, $"--count must be from 1 to {LicenceRules.MaxCount}."))
            : AddAsync(organizationId, count, null, cancellationToken);

    /// <summary>Operations: adds the one licence a partner's key stands for; a key is accepted once.</summary>
    public Task<Added> AddPartnerKeyAsync(Guid organizationId, string key, CancellationToken cancellationToken) =>
        LicenceRules.TryNormalisePartnerKey(key, out var normalised)
            ? AddAsync(organizationId, 1, normalised, cancellationToken)
            : Task.FromResult(new Added(0, "--key must be a partner licence key such as CSL-7K3QF-M9TXA-2B4RD-Y8WNP."));

    async Task<Added> AddAsync(Guid organizationId, int count, string? partnerKey, CancellationToken cancellationToken)
    {
        var organization = await db.Organizations.SingleOrDefaultAsync(o => o.Id == organizationId, cancellationToken);
        var now = time.GetUtcNow();
        if (organization is null)
        {
            return new Added(0, $"No organisation {organizationId}.");
        }

        if (now >= LicenceRules.WindowEnd(organization.CreatedAt))
        {
            return new Added(0, $"The organisation's licence allocation window ended on {LicenceRules.WindowEnd(organization.CreatedAt):yyyy-MM-dd HH:mm} UTC; licences added now would lapse at once.");
        }

        var hash = partnerKey is null ? null : Secrets.Hash(partnerKey);
        if (hash is not null && await db.Licences.AnyAsync(l => l.PartnerKeyHash == hash, cancellationToken))
        {
            return new Added(0, "This partner key has already been used.");
        }

        for (var i = 0; i < count; i++)
        {
            db.Licences.Add(new Licence
            {
                Id = Guid.NewGuid(),
                OrganizationId = organizationId,
                Source = partnerKey is null ? LicenceRules.CountSource : LicenceRules.PartnerKeySource,
                PartnerKeyHash = hash,
                PartnerKeyHint = partnerKey?[^5..],
                State = LicenceState.Free,
                AddedAt = now,
            });
        }

        audit.Add(organizationId, "system", AuditActions.LicencesAdded, $"organization:{organizationId}",
            partnerKey is null ? $"success:count={count}" : $"success:partner-key=…{partnerKey[^5..]}");
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // The same key raced in on another command: the unique index admitted one of them.
            db.ChangeTracker.Clear();
            return new Added(0, "This partner key has already been used.");
        }

        return new Added(count, null);
    }

    /// <summary>
    /// Gives <paramref name="cameraId"/> a free licence that has not lapsed, in the caller's transaction.
    /// True when the camera holds a licence afterwards (also when it held one already).
    /// </summary>
    public async Task<bool> AllocateAsync(Guid organizationId, Guid cameraId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var activatedAt = await db.Organizations.Where(o => o.Id == organizationId).Select(o => o.CreatedAt).SingleAsync(cancellationToken);
        var windowOpen = now < LicenceRules.WindowEnd(activatedAt);
        var free = db.Licences.Where(f => f.OrganizationId == organizationId && f.State == LicenceState.Free && (windowOpen || f.FirstAllocatedAt != null));

        // One conditional statement takes the oldest free licence. SQLite runs it under its write lock, so it always
        // wins; PostgreSQL may have another request take the same licence first, and then re-checks "still free" on
        // the row it waited for, updates nothing, and this loop takes the next one. The unique index on CameraId keeps
        // a camera from ever holding two.
        for (var attempt = 0; attempt < MaxAllocationAttempts; attempt++)
        {
            var taken = await db.Licences
                .Where(l => l.Id == free.OrderBy(f => f.AddedAt).ThenBy(f => f.Id).Select(f => f.Id).FirstOrDefault()
                    && l.State == LicenceState.Free
                    && !db.Licences.Any(held => held.CameraId == cameraId))
                .ExecuteUpdateAsync(set => set
                    .SetProperty(l => l.State, LicenceState.Allocated)
                    .SetProperty(l => l.CameraId, cameraId)
                    .SetProperty(l => l.AllocatedAt, now)
                    .SetProperty(l => l.FirstAllocatedAt, l => l.FirstAllocatedAt ?? now), cancellationToken);
            if (taken == 1 || await db.Licences.AnyAsync(l => l.CameraId == cameraId, cancellationToken))
            {
                return true;
            }

            if (!await free.AnyAsync(cancellationToken))
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>How often a request tries again when the licence it chose was taken by a concurrent one (PostgreSQL).</summary>
    const int MaxAllocationAttempts = 20;

    /// <summary>Frees the licence <paramref name="cameraId"/> holds, in the caller's transaction.</summary>
    public Task<int> FreeAsync(Guid cameraId, CancellationToken cancellationToken) =>
        db.Licences.Where(l => l.CameraId == cameraId).ExecuteUpdateAsync(set => set
            .SetProperty(l => l.State, LicenceState.Free)
            .SetProperty(l => l.CameraId, (Guid?)null)
            .SetProperty(l => l.AllocatedAt, (DateTimeOffset?)null), cancellationToken);

    /// <summary>The subscription watcher: marks lapsed every free licence never allocated within its window. Idempotent.</summary>
    public async Task<int> LapseAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var activatedBefore = now - LicenceRules.AllocationWindow;
        var due = await db.Licences
            .Where(l => l.State == LicenceState.Free && l.FirstAllocatedAt == null)
            .Join(db.Organizations.Where(o => o.CreatedAt <= activatedBefore), l => l.OrganizationId, o => o.Id, (l, o) => new { l.OrganizationId, o.CreatedAt })
            .GroupBy(l => new { l.OrganizationId, l.CreatedAt })
            .Select(g => new { g.Key.OrganizationId, g.Key.CreatedAt, Count = g.Count() })
            .ToListAsync(cancellationToken);
        var lapsed = 0;
        foreach (var organization in due)
        {
            var reason = LicenceRules.LapseReason(organization.CreatedAt);
            var changed = await db.Licences
                .Where(l => l.OrganizationId == organization.OrganizationId && l.State == LicenceState.Free && l.FirstAllocatedAt == null)
                .ExecuteUpdateAsync(set => set.SetProperty(l => l.State, LicenceState.Lapsed).SetProperty(l => l.LapsedAt, now).SetProperty(l => l.LapseReason, reason), cancellationToken);
            if (changed > 0)
            {
                await audit.WriteAsync(organization.OrganizationId, AuditLog.Scheduler, AuditActions.LicencesLapsed, $"organization:{organization.OrganizationId}", $"success:count={changed}", cancellationToken);
                lapsed += changed;
            }
        }

        return lapsed;
    }

    /// <summary>The organisation's licences as the administrator sees them; a licence due to lapse shows as lapsed before the watcher marks it.</summary>
    public async Task<(DateTimeOffset WindowEndsAt, List<Licence> Licences)> ListAsync(Guid organizationId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var activatedAt = await db.Organizations.Where(o => o.Id == organizationId).Select(o => o.CreatedAt).SingleAsync(cancellationToken);
        var licences = await db.Licences.AsNoTracking().Where(l => l.OrganizationId == organizationId).OrderBy(l => l.AddedAt).ThenBy(l => l.Id).ToListAsync(cancellationToken);
        foreach (var licence in licences.Where(l => l.State == LicenceState.Free && LicenceRules.Lapses(l.FirstAllocatedAt, activatedAt, now)))
        {
            licence.State = LicenceState.Lapsed;
            licence.LapseReason = LicenceRules.LapseReason(activatedAt);
        }

        return (LicenceRules.WindowEnd(activatedAt), licences);
    }
}
