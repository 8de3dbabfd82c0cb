using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Recordings;
using CloudStore.ControlPlane.Regional;
using CloudStore.ControlPlane.Retention;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CloudStore.ControlPlane.Decommissioning;

/// <summary>
/// The hourly sweep's work for what was deleted (run by <see cref="RetentionSweep"/>: deleted organisations before
/// retention, emptied cameras after it).
/// <para>
/// A deleted organisation, step by step, each step recorded on its <see cref="OrganizationTombstone"/> so that a crash
/// resumes where it stopped: its keys destroyed in every region first (nothing else happens until they are); then, in
/// every region this deployment serves, each of its cameras' objects deleted by listing (bounded per run) and after them
/// its index rows; last, its directory rows in one transaction. What stays: the tombstone and the audit log.
/// </para>
/// <para>
/// A deleted camera is removed once the index holds nothing of it and no active hold names it: the objects still in its
/// storage (uploads never indexed) are deleted by listing, then its row, and its device's row after the device's last camera.
/// </para>
/// Objects go before rows everywhere, and every step is idempotent, so two sweeps at once do no harm.
/// </summary>
public sealed partial class DecommissionSweep(
    DirectoryDbContext db, RegionCatalog regions, RecordingIndex recordings, OrganizationDeletion deletion, AuditLog audit, TimeProvider time,
    IOptions<RetentionOptions> options, ILogger<DecommissionSweep> logger)
{
    /// <returns>How many deleted organisations this run finished.</returns>
    public async Task<int> SweepOrganizationsAsync(CancellationToken cancellationToken)
    {
        var finished = 0;
        var pending = await db.OrganizationTombstones.Where(t => t.PurgedAt == null).OrderBy(t => t.DeletedAt).ToListAsync(cancellationToken);
        foreach (var tombstone in pending)
        {
            try
            {
                // Crypto-shredding comes first: until every region's key is destroyed, nothing is deleted that would hide a failure.
                if (!await deletion.ShredKeysAsync(tombstone, cancellationToken) || !await ClearStorageAsync(tombstone, cancellationToken))
                {
                    continue;
                }

                await PurgeDirectoryAsync(tombstone, cancellationToken);
                finished++;
            }
            catch (StorageUnavailableException e)
            {
                LogStorageUnavailable(logger, tombstone.OrganizationId, e);
                await audit.WriteAsync(tombstone.OrganizationId, AuditLog.Scheduler, AuditActions.OrganizationStorageCleared,
                    $"organization:{tombstone.OrganizationId}", AuditLog.Failure("storage-unavailable"), cancellationToken);
            }
        }

        return finished;
    }

    /// <returns>True when no region holds anything of the organisation any more; false when this run's budget ran out first.</returns>
    async Task<bool> ClearStorageAsync(OrganizationTombstone tombstone, CancellationToken cancellationToken)
    {
        if (tombstone.StorageClearedAt is not null)
        {
            return true;
        }

        var organizationId = tombstone.OrganizationId;
        var budget = options.Value.MaxObjectsPerDeletionPerRun;
        var known = await db.Cameras.Where(c => c.OrganizationId == organizationId).Select(c => c.Id).ToListAsync(cancellationToken);
        foreach (var region in regions.Configured)
        {
            var storage = regions.Storage(region);
            var cameras = known.Union(await recordings.CamerasOfOrganizationAsync(region, organizationId, cancellationToken)).ToList();
            var objects = 0;
            var rows = 0;
            foreach (var camera in cameras)
            {
                var deleted = await storage.DeleteAllAsync(camera, budget, cancellationToken);
                objects += deleted;
                budget -= deleted;
                if (budget == 0)
                {
                    // Rows stay until their objects are gone; the next run lists again and goes on.
                    AuditRegion(organizationId, region, objects, rows, "more-next-run");
                    await db.SaveChangesAsync(cancellationToken);
                    return false;
                }

                rows += await recordings.RemoveCameraAsync(region, camera, cancellationToken);
            }

            rows += await recordings.RemoveOrganizationAsync(region, organizationId, cancellationToken);
            if (objects + rows > 0)
            {
                AuditRegion(organizationId, region, objects, rows, "done");
            }
        }

        tombstone.StorageClearedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    void AuditRegion(Guid organizationId, string region, int objects, int rows, string state) =>
        audit.Add(organizationId, AuditLog.Scheduler, AuditActions.OrganizationStorageCleared, $"organization:{organizationId}",
            $"success:region={region};objects={objects};rows={rows};{state}");

    /// <summary>Removes every directory row of the organisation in one transaction; the tombstone and the audit log stay.</summary>
    async Task PurgeDirectoryAsync(OrganizationTombstone tombstone, CancellationToken cancellationToken)
    {
        var id = tombstone.OrganizationId;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var people = db.Users.Where(u => u.OrganizationId == id).Select(u => u.Id);
        var devices = db.Devices.Where(d => d.OrganizationId == id).Select(d => d.Id);
        var cameras = db.Cameras.Where(c => c.OrganizationId == id || devices.Contains(c.DeviceId)).Select(c => c.Id);
        await db.LegalHolds.Where(h => h.OrganizationId == id || cameras.Contains(h.CameraId)).ExecuteDeleteAsync(cancellationToken);
        await db.Licences.Where(l => l.OrganizationId == id).ExecuteDeleteAsync(cancellationToken);
        await db.Notifications.Where(n => n.OrganizationId == id).ExecuteDeleteAsync(cancellationToken);
        await db.Cameras.Where(c => c.OrganizationId == id || devices.Contains(c.DeviceId)).ExecuteDeleteAsync(cancellationToken);
        await db.UsedAssertions.Where(u => devices.Contains(u.DeviceId)).ExecuteDeleteAsync(cancellationToken);
        await db.Devices.Where(d => d.OrganizationId == id).ExecuteDeleteAsync(cancellationToken);
        await db.RefreshTokens.Where(t => people.Contains(t.UserId)).ExecuteDeleteAsync(cancellationToken);
        await db.SignInChallenges.Where(c => people.Contains(c.UserId)).ExecuteDeleteAsync(cancellationToken);
        await db.UsedTotpSteps.Where(u => people.Contains(u.UserId)).ExecuteDeleteAsync(cancellationToken);
        await db.UserTokens.Where(t => people.Contains(t.UserId)).ExecuteDeleteAsync(cancellationToken);
        await db.AccountTokens.Where(t => people.Contains(t.UserId)).ExecuteDeleteAsync(cancellationToken);
        await db.UserClaims.Where(c => people.Contains(c.UserId)).ExecuteDeleteAsync(cancellationToken);
        await db.UserLogins.Where(l => people.Contains(l.UserId)).ExecuteDeleteAsync(cancellationToken);
        var users = await db.Users.Where(u => u.OrganizationId == id).ExecuteDeleteAsync(cancellationToken);
        await db.Organizations.Where(o => o.Id == id).ExecuteDeleteAsync(cancellationToken);
        tombstone.PurgedAt = time.GetUtcNow();
        audit.Add(id, AuditLog.Scheduler, AuditActions.OrganizationPurged, $"organization:{id}", $"success:users={users}");
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        LogPurged(logger, id);
    }

    /// <summary>Removes the deleted cameras (and devices) of organisations still in service that nothing of remains.</summary>
    /// <returns>How many cameras this run removed.</returns>
    public async Task<int> PurgeDeletedCamerasAsync(CancellationToken cancellationToken)
    {
        var candidates = await db.Cameras.AsNoTracking().Where(c => c.DeletedAt != null && !db.LegalHolds.Any(h => h.CameraId == c.Id && h.ReleasedAt == null))
            .Join(db.Organizations.Where(o => o.DeletedAt == null), c => c.OrganizationId, o => o.Id, (c, o) => new { c.Id, c.OrganizationId, c.DeviceId, o.HomeRegion })
            .ToListAsync(cancellationToken);
        var purged = 0;
        foreach (var camera in candidates)
        {
            var region = camera.HomeRegion is { } home && regions.IsConfigured(home) ? home : null;
            if (camera.HomeRegion is not null && region is null)
            {
                continue;
            }

            try
            {
                // Not yet: its recordings are kept until their retention ends, or this run's budget ran out before them.
                if (region is not null && await recordings.HasAnyAsync(region, camera.Id, cancellationToken))
                {
                    continue;
                }

                var budget = options.Value.MaxObjectsPerDeletionPerRun;
                var leftovers = region is null ? 0 : await regions.Storage(region).DeleteAllAsync(camera.Id, budget, cancellationToken);
                if (leftovers == budget)
                {
                    continue;
                }

                    if (await RemoveCameraRowAsync(camera.OrganizationId, camera.Id, camera.DeviceId, leftovers, cancellationToken))
                {
                    purged++;
                }
            }
            catch (StorageUnavailableException e)
            {
                LogStorageUnavailable(logger, camera.OrganizationId, e);
            }
        }

        await PurgeDeletedDevicesWithoutCamerasAsync(cancellationToken);
        return purged;
    }

    /// <returns>False when another sweep removed it first.</returns>
    async Task<bool> RemoveCameraRowAsync(Guid organizationId, Guid cameraId, Guid deviceId, int leftovers, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.LegalHolds.Where(h => h.CameraId == cameraId && h.ReleasedAt != null).ExecuteDeleteAsync(cancellationToken);
        var removed = await db.Cameras.Where(c => c.Id == cameraId && c.DeletedAt != null).ExecuteDeleteAsync(cancellationToken) == 1;
        if (removed)
        {
            audit.Add(organizationId, AuditLog.Scheduler, AuditActions.CameraPurged, $"camera:{cameraId}", $"success:unindexed-objects={leftovers}");
            await RemoveDeviceIfEmptyAsync(organizationId, deviceId, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return removed;
    }

    /// <summary>Deleted devices that had no camera left to wait for.</summary>
    async Task PurgeDeletedDevicesWithoutCamerasAsync(CancellationToken cancellationToken)
    {
        var devices = await db.Devices.Where(d => d.DeletedAt != null && !db.Cameras.Any(c => c.DeviceId == d.Id)
                && db.Organizations.Any(o => o.Id == d.OrganizationId && o.DeletedAt == null))
            .Select(d => new { d.Id, d.OrganizationId }).ToListAsync(cancellationToken);
        foreach (var device in devices)
        {
            await RemoveDeviceIfEmptyAsync(device.OrganizationId, device.Id, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }
    }

    /// <summary>A deleted device's row goes with its last camera (its used assertion ids with it); the caller saves.</summary>
    async Task RemoveDeviceIfEmptyAsync(Guid organizationId, Guid deviceId, CancellationToken cancellationToken)
    {
        if (await db.Cameras.AnyAsync(c => c.DeviceId == deviceId, cancellationToken))
        {
            return;
        }

        await db.UsedAssertions.Where(u => u.DeviceId == deviceId).ExecuteDeleteAsync(cancellationToken);
        if (await db.Devices.Where(d => d.Id == deviceId && d.DeletedAt != null).ExecuteDeleteAsync(cancellationToken) == 1)
        {
            audit.Add(organizationId, AuditLog.Scheduler, AuditActions.DevicePurged, $"device:{deviceId}", AuditLog.Success);
        }
    }

    [LoggerMessage(EventId = 3203, Level = LogLevel.Warning, Message = "Decommissioning: storage unavailable while deleting what organisation {OrganizationId} left; retried next run")]
    static partial void LogStorageUnavailable(ILogger logger, Guid organizationId, Exception exception);

    [LoggerMessage(EventId = 3204, Level = LogLevel.Information, Message = "Decommissioning: organisation {OrganizationId} deleted everywhere; its tombstone and audit entries remain")]
    static partial void LogPurged(ILogger logger, Guid organizationId);
}
