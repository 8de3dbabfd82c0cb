using CloudStore.Contracts.Envelope;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Decommissioning;
using CloudStore.ControlPlane.Devices;
using CloudStore.ControlPlane.Recordings;
using CloudStore.ControlPlane.Regional;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CloudStore.ControlPlane.Retention;

/// <summary>The <c>Retention</c> section: how much one sweep may do.</summary>
public sealed class RetentionOptions
{
    public const string Section = "Retention";

    /// <summary>At most this many segments of one camera are deleted per run; the rest wait for the next hourly run.</summary>
    public int MaxSegmentsPerCameraPerRun { get; set; } = 20_000;

    /// <summary>Segments per batch: their objects are deleted, then their index rows, before the next batch starts.</summary>
    public int DeleteBatchSize { get; set; } = 500;

    /// <summary>
    /// At most this many objects found by listing storage are deleted per run for one deleted organisation (all its cameras,
    /// all regions) or one deleted camera (its objects never indexed); the rest wait for the next run.
    /// </summary>
    public int MaxObjectsPerDeletionPerRun { get; set; } = 50_000;
}

/// <summary>
/// Scheduled work (timer <c>RetentionSweep</c>, hourly): deletes, in each camera's own region (its
/// organisation's home region), the segments whose end is older than the camera's retention and that no
/// active legal hold overlaps, then the init segments and wrapped keys no remaining segment uses.
/// <para>
/// Crash-safe by order: storage objects first, then their index rows. A crash in between leaves rows whose
/// objects are gone; the next run finds the same rows (still expired), deletes the missing objects again (a
/// missing object counts as deleted) and removes the rows. No object is ever left without a row to find it by.
/// Two sweeps at once both delete the objects (harmlessly) and each row is removed, and counted, by one of them.
/// </para>
/// <para>
/// Deleted cameras: one deleted with its recordings has every segment swept (only holds keep any), one deleted with its
/// recordings kept follows its retention as before. The run first works on deleted organisations and ends by removing
/// deleted cameras nothing remains of (<see cref="DecommissionSweep"/>); cameras of deleted organisations are left to it.
/// </para>
/// </summary>
public sealed partial class RetentionSweep(
    DirectoryDbContext db, RegionCatalog regions, RecordingIndex recordings, DecommissionSweep decommissioning, AuditLog audit, TimeProvider time,
    IOptions<RetentionOptions> options, ILogger<RetentionSweep> logger)
{
    /// <summary>How many candidate rows are read from the index at a time.</summary>
    const int PageSize = 1000;

    public sealed record Result(int CamerasSwept, int SegmentsDeleted);

    /// <summary>What one camera's sweep removed.</summary>
    public sealed record CameraResult(int Segments, int InitSegments, int WrappedKeys)
    {
        public bool Any => Segments + InitSegments + WrappedKeys > 0;
    }

    public async Task<Result> RunAsync(CancellationToken cancellationToken)
    {
        await decommissioning.SweepOrganizationsAsync(cancellationToken);
        var now = time.GetUtcNow();
        var cameras = await db.Cameras.AsNoTracking()
            .Join(db.Organizations.Where(o => o.HomeRegion != null && o.DeletedAt == null), c => c.OrganizationId, o => o.Id,
                (c, o) => new
                {
                    c.Id, c.OrganizationId, Region = o.HomeRegion!, Days = c.RetentionDays ?? o.DefaultRetentionDays,
                    RecordingsDeleted = c.RecordingsAfterDeletion == RecordingsChoice.Delete,
                })
            .ToListAsync(cancellationToken);
        var holds = (await db.LegalHolds.AsNoTracking().Where(h => h.ReleasedAt == null).Select(h => new { h.CameraId, h.From, h.To }).ToListAsync(cancellationToken))
            .ToLookup(h => h.CameraId, h => new HeldRange(h.From, h.To));

        var swept = 0;
        var deleted = 0;
        foreach (var camera in cameras.Where(c => regions.IsConfigured(c.Region)))
        {
            try
            {
                var cutoff = RetentionRules.Cutoff(now, camera.Days, camera.RecordingsDeleted);
                var result = await SweepCameraAsync(camera.Region, camera.Id, cutoff, [.. holds[camera.Id]], cancellationToken);
                swept++;
                deleted += result.Segments;
                if (result.Any)
                {
                    var rule = camera.RecordingsDeleted ? "camera-deleted" : $"days={camera.Days}";
                    audit.Add(camera.OrganizationId, AuditLog.Scheduler, AuditActions.RetentionSweep, $"camera:{camera.Id}",
                        $"success:segments={result.Segments},inits={result.InitSegments},keys={result.WrappedKeys},{rule}");
                    await db.SaveChangesAsync(cancellationToken);
                }
            }
            catch (StorageUnavailableException e)
            {
                // Nothing of this camera was removed from the index that is still in storage; the next run retries.
                LogStorageUnavailable(logger, camera.Id, camera.Region, e);
                await audit.WriteAsync(camera.OrganizationId, AuditLog.Scheduler, AuditActions.RetentionSweep, $"camera:{camera.Id}", AuditLog.Failure("storage-unavailable"), cancellationToken);
            }
        }

        await decommissioning.PurgeDeletedCamerasAsync(cancellationToken);
        var run = new Result(swept, deleted);
        await audit.WriteAsync(null, AuditLog.Scheduler, AuditActions.RetentionSweep, "recordings",
            $"success:cameras={run.CamerasSwept},deleted={run.SegmentsDeleted}", cancellationToken);
        LogSwept(logger, run.CamerasSwept, run.SegmentsDeleted);
        return run;
    }

    /// <summary>One camera: expired segments (bounded), then init segments and wrapped keys nothing uses any more.</summary>
    public Task<CameraResult> SweepCameraAsync(
        string region, Guid cameraId, DateTimeOffset now, int retentionDays, IReadOnlyCollection<HeldRange> holds, CancellationToken cancellationToken) =>
        SweepCameraAsync(region, cameraId, RetentionRules.Cutoff(now, retentionDays), holds, cancellationToken);

    /// <summary>One camera, everything that ended by <paramref name="cutoff"/> (bounded), then what nothing uses any more.</summary>
    public async Task<CameraResult> SweepCameraAsync(
        string region, Guid cameraId, DateTimeOffset cutoff, IReadOnlyCollection<HeldRange> holds, CancellationToken cancellationToken)
    {
        var storage = regions.Storage(region);
        var budget = options.Value.MaxSegmentsPerCameraPerRun;
        var segments = 0;
        (DateTimeOffset, long)? after = null;
        while (budget > 0)
        {
            var page = await recordings.SegmentsStartedBeforeAsync(region, cameraId, cutoff, after, PageSize, cancellationToken);
            if (page.Count == 0)
            {
                break;
            }

            after = (page[^1].Start, page[^1].Id);
            var expired = RetentionRules.SegmentsToDelete(page, cutoff, holds, budget);
            foreach (var batch in expired.Chunk(options.Value.DeleteBatchSize))
            {
                await storage.DeleteAsync(cameraId, [.. batch.Select(s => s.ObjectName)], cancellationToken);
                segments += await recordings.RemoveSegmentsAsync(region, cameraId, [.. batch.Select(s => s.Id)], cancellationToken);
            }

            budget -= expired.Count;
            if (page.Count < PageSize)
            {
                break;
            }
        }

        var (initCandidates, initsUsed) = await recordings.OldInitSegmentsAsync(region, cameraId, cutoff, cancellationToken);
        var inits = RetentionRules.UnreferencedToDelete(initCandidates, initsUsed, cutoff);
        var initsRemoved = 0;
        if (inits.Count > 0)
        {
            await storage.DeleteAsync(cameraId, inits, cancellationToken);
            initsRemoved = await recordings.RemoveInitSegmentsAsync(region, cameraId, inits, cancellationToken);
        }

        var (keyCandidates, keysUsed) = await recordings.OldWrappedKeysAsync(region, cameraId, cutoff, cancellationToken);
        var keys = RetentionRules.UnreferencedToDelete(keyCandidates, keysUsed, cutoff);
        var keysRemoved = 0;
        if (keys.Count > 0)
        {
            await storage.DeleteAsync(cameraId, [.. keys.Select(WrappedKey.ObjectName)], cancellationToken);
            keysRemoved = await recordings.RemoveWrappedKeysAsync(region, cameraId, keys, cancellationToken);
        }

        return new CameraResult(segments, initsRemoved, keysRemoved);
    }

    [LoggerMessage(EventId = 3201, Level = LogLevel.Information, Message = "Retention sweep: {Cameras} cameras swept, {Segments} segments deleted")]
    static partial void LogSwept(ILogger logger, int cameras, int segments);

    [LoggerMessage(EventId = 3202, Level = LogLevel.Warning, Message = "Retention sweep: storage of region {Region} unavailable for camera {CameraId}; retried next run")]
    static partial void LogStorageUnavailable(ILogger logger, Guid cameraId, string region, Exception exception);
}

public static class RetentionServices
{
    public static IServiceCollection AddRetention(this IServiceCollection services)
    {
        services.AddOptions<RetentionOptions>().BindConfiguration(RetentionOptions.Section)
            .Validate(o => o.MaxSegmentsPerCameraPerRun is >= 1 and <= 1_000_000, "Retention:MaxSegmentsPerCameraPerRun must be from 1 to 1,000,000.")
            .Validate(o => o.DeleteBatchSize is >= 1 and <= 1000, "Retention:DeleteBatchSize must be from 1 to 1,000.")
            .Validate(o => o.MaxObjectsPerDeletionPerRun is >= 1 and <= 1_000_000, "Retention:MaxObjectsPerDeletionPerRun must be from 1 to 1,000,000.")
            .ValidateOnStart();
        return services.AddScoped<RetentionSweep>().AddScoped<LegalHolds>();
    }
}
