using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Devices;
using CloudStore.ControlPlane.Licences;
using CloudStore.ControlPlane.Platform;
using Microsoft.EntityFrameworkCore;

namespace CloudStore.ControlPlane.Decommissioning;

public enum DeletionOutcome
{
    Done,
    NotFound,

    /// <summary>Deleted before (a second request, or one that lost a race to another).</summary>
    AlreadyDeleted,
}

/// <summary>
/// An administrator deletes a camera, or a device with all its cameras. Each deletion is one conditional update (of
/// parallel deletions exactly one wins; the others find it deleted) in a transaction with the licences it frees and its
/// audit entries. From that moment the camera gets no upload grant and indexes nothing; its recordings are deleted or
/// kept as chosen (<see cref="RecordingsChoice"/>), by the hourly sweep, which also removes the rows once nothing of them remains.
/// A deleted device is revoked and forgets its key at once, and its serial is free for a new device.
/// </summary>
public sealed class CameraDeletions(DirectoryDbContext db, LicenceService licences, AuditLog audit, TimeProvider time)
{
    public async Task<(DeletionOutcome Outcome, CameraDeletedResponse? Deleted)> DeleteCameraAsync(
        Caller caller, Guid cameraId, RecordingsChoice choice, CancellationToken cancellationToken)
    {
        var now = Stored(time.GetUtcNow());
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // The write comes first in the transaction: a read first would make a concurrent writer's commit fail this one (SQLite WAL).
        var deleted = await MarkCamerasDeletedAsync(db.Cameras.Where(c => c.Id == cameraId && c.OrganizationId == caller.OrganizationId), choice, now, cancellationToken);
        if (deleted == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            var exists = await db.Cameras.AnyAsync(c => c.Id == cameraId && c.OrganizationId == caller.OrganizationId, cancellationToken);
            return (exists ? DeletionOutcome.AlreadyDeleted : DeletionOutcome.NotFound, null);
        }

        var response = await FinishCameraAsync(caller, cameraId, choice, now, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (DeletionOutcome.Done, response);
    }

    public async Task<(DeletionOutcome Outcome, DeviceDeletedResponse? Deleted)> DeleteDeviceAsync(
        Caller caller, Guid deviceId, RecordingsChoice choice, CancellationToken cancellationToken)
    {
        var now = Stored(time.GetUtcNow());
        DateTimeOffset? deletedAt = now;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var deleted = await db.Devices.Where(d => d.Id == deviceId && d.OrganizationId == caller.OrganizationId && d.DeletedAt == null)
            .ExecuteUpdateAsync(set => set
                .SetProperty(d => d.Status, DeviceStatus.Revoked)
                .SetProperty(d => d.RevokedAt, d => d.RevokedAt ?? deletedAt)
                .SetProperty(d => d.DeletedAt, deletedAt)
                .SetProperty(d => d.EnrolmentCodeHash, (byte[]?)null)
                .SetProperty(d => d.EnrolmentExpiresAt, (DateTimeOffset?)null)
                // Its key is forgotten: an assertion signed with it names a device that has none, whatever serial is enrolled next.
                .SetProperty(d => d.PublicKey, (byte[]?)null), cancellationToken);
        if (deleted == 0)
        {
            // A deleted device is gone for the API: a second deletion finds nothing.
            await transaction.RollbackAsync(cancellationToken);
            return (DeletionOutcome.NotFound, null);
        }

        var serial = await db.Devices.Where(d => d.Id == deviceId).Select(d => d.Serial).SingleAsync(cancellationToken);
        var cameraIds = await db.Cameras.Where(c => c.DeviceId == deviceId && c.DeletedAt == null).Select(c => c.Id).ToListAsync(cancellationToken);
        await MarkCamerasDeletedAsync(db.Cameras.Where(c => c.DeviceId == deviceId), choice, now, cancellationToken);
        await db.UsedAssertions.Where(u => u.DeviceId == deviceId).ExecuteDeleteAsync(cancellationToken);
        var cameras = new List<CameraDeletedResponse>();
        foreach (var cameraId in cameraIds)
        {
            cameras.Add(await FinishCameraAsync(caller, cameraId, choice, now, cancellationToken));
        }

        audit.Add(caller.OrganizationId, caller.Actor, AuditActions.DeviceDeleted, $"device:{deviceId}",
            $"success:cameras={cameraIds.Count};recordings={RecordingsChoiceText.ToText(choice)}");
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return (DeletionOutcome.Done, new DeviceDeletedResponse(deviceId, serial, now, RecordingsChoiceText.ToText(choice), cameras));
    }

    /// <returns>How many cameras this call deleted (those deleted before are left as they are).</returns>
    static Task<int> MarkCamerasDeletedAsync(IQueryable<Camera> cameras, RecordingsChoice choice, DateTimeOffset now, CancellationToken cancellationToken)
    {
        DateTimeOffset? deletedAt = now;
        RecordingsChoice? recordings = choice;
        return cameras.Where(c => c.DeletedAt == null).ExecuteUpdateAsync(set => set
            .SetProperty(c => c.DeletedAt, deletedAt)
            .SetProperty(c => c.RecordingsAfterDeletion, recordings)
            .SetProperty(c => c.Enabled, false), cancellationToken);
    }

    /// <summary>Frees the camera's licence and audits its deletion; the caller saves.</summary>
    async Task<CameraDeletedResponse> FinishCameraAsync(Caller caller, Guid cameraId, RecordingsChoice choice, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await licences.FreeAsync(cameraId, cancellationToken);
        var holds = await db.LegalHolds.CountAsync(h => h.CameraId == cameraId && h.ReleasedAt == null, cancellationToken);
        var text = RecordingsChoiceText.ToText(choice);
        audit.Add(caller.OrganizationId, caller.Actor, AuditActions.CameraDeleted, $"camera:{cameraId}", $"success:recordings={text};holds={holds}");
        return new CameraDeletedResponse(cameraId, now, text, holds, RecordingsChoiceText.Explain(choice, holds));
    }

    /// <summary>What the directory stores (Unix milliseconds), so an answer equals what is read back later.</summary>
    static DateTimeOffset Stored(DateTimeOffset time) => DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds());
}
