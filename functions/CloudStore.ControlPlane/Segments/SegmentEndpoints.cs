using CloudStore.Contracts;
using CloudStore.Contracts.Envelope;
using CloudStore.ControlPlane.Auth;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Platform;
using CloudStore.ControlPlane.Regional;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace CloudStore.ControlPlane.Segments;

/// <summary>
/// Step E: a device indexes what it uploaded. Each object must exist in the camera's own storage with
/// the declared size, each data key's wrapped form must be there and name the organisation's key in
/// the home region. A batch is accepted whole or not at all; the same segment sent again is counted
/// once, a different one under a used sequence number is a 409.
/// </summary>
public static class SegmentEndpoints
{
    const int MaxWrappedKeyBytes = 1024;

    /// <summary>Room for a full batch (500 segments of about 450 bytes of JSON each) where other endpoints take 64 KiB.</summary>
    public const long MaxBatchBytes = 512 * 1024;

    public static IEndpointRouteBuilder MapSegments(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/segments", Index).WithName("IndexSegments").WithTags("Upload").RequireAuthorization(Policies.Device)
            .WithMetadata(new RequestSizeLimitAttribute(MaxBatchBytes))
            .WithSummary("Device: index a batch of uploaded segments (after each upload, or in a batch after an outage).");
        return app;
    }

    static async Task<Results<Ok<SegmentBatchResponse>, ValidationProblem, ProblemHttpResult>> Index(
        SegmentBatch batch, HttpContext context, DirectoryDbContext db, RegionCatalog regions, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var validation = SegmentValidation.Check(batch, now);
        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        var caller = Caller.From(context.User);
        var deviceId = Guid.Parse(caller.Subject);
        var camera = await db.Cameras.SingleOrDefaultAsync(c => c.Id == batch.CameraId && c.DeviceId == deviceId && c.OrganizationId == caller.OrganizationId, cancellationToken);
        if (camera is null)
        {
            return Problems.NotFound("camera on this device");
        }

        var region = await db.Organizations.Where(o => o.Id == caller.OrganizationId).Select(o => o.HomeRegion).SingleAsync(cancellationToken);
        if (region is null || !regions.IsConfigured(region))
        {
            return Problems.Conflict("The organisation has no region served by this deployment");
        }

        await using var index = regions.OpenIndex(region);
        var storage = regions.Storage(region);
        var sequences = batch.Segments.Select(s => s.Sequence).ToList();
        var existing = await index.Segments.Where(s => s.CameraId == camera.Id && sequences.Contains(s.Sequence)).ToDictionaryAsync(s => s.Sequence, cancellationToken);
        var initNames = batch.InitSegments.Select(i => i.ObjectName).ToList();
        var existingInits = await index.InitSegments.Where(i => i.CameraId == camera.Id && initNames.Contains(i.ObjectName)).ToDictionaryAsync(i => i.ObjectName, StringComparer.Ordinal, cancellationToken);

        foreach (var segment in batch.Segments.Where(s => existing.TryGetValue(s.Sequence, out var row) && !Same(row, s)))
        {
            return Problems.Conflict("Sequence already indexed with other content", $"Sequence {segment.Sequence} of this camera is indexed with a different object.");
        }

        foreach (var init in batch.InitSegments.Where(i => existingInits.TryGetValue(i.ObjectName, out var row) && !Same(row, i)))
        {
            return Problems.Conflict("Init segment already indexed with other content", $"{init.ObjectName} is indexed with different content.");
        }

        var knownInits = initNames.ToHashSet(StringComparer.Ordinal);
        var missingInits = batch.Segments.Select(s => s.InitObjectName).Where(n => !knownInits.Contains(n)).Distinct().ToList();
        if (missingInits.Count > 0 && await index.InitSegments.CountAsync(i => i.CameraId == camera.Id && missingInits.Contains(i.ObjectName), cancellationToken) != missingInits.Count)
        {
            return Problems.BadRequest("Unknown init segment", "Register each init segment (initSegments) before or with the segments that use it.");
        }

        var newInits = batch.InitSegments.Where(i => !existingInits.ContainsKey(i.ObjectName)).ToList();
        var newSegments = batch.Segments.Where(s => !existing.ContainsKey(s.Sequence)).ToList();
        foreach (var stored in newInits.Concat(newSegments.Select(s => s.Media)))
        {
            if (await storage.SizeAsync(camera.Id, stored.ObjectName, cancellationToken) != stored.Size)
            {
                return Problems.BadRequest("Object not stored as declared", $"{stored.ObjectName} is missing from the camera's storage or has another size.");
            }
        }

        var keyIds = newInits.Select(i => i.KeyId).Concat(newSegments.Select(s => s.Media.KeyId)).Distinct().ToList();
        var knownKeys = await index.WrappedKeys.Where(k => keyIds.Contains(k.KeyId)).ToListAsync(cancellationToken);
        if (knownKeys.Any(k => k.CameraId != camera.Id))
        {
            return Problems.Conflict("Data key belongs to another camera");
        }

        var newKeys = new List<WrappedKeyRow>();
        foreach (var keyId in keyIds.Where(id => knownKeys.All(k => k.KeyId != id)))
        {
            var bytes = await storage.ReadSmallAsync(camera.Id, WrappedKey.ObjectName(keyId), MaxWrappedKeyBytes, cancellationToken);
            if (bytes is null)
            {
                return Problems.BadRequest("Wrapped key not stored", $"Upload {WrappedKey.ObjectName(keyId)} before indexing segments encrypted with that key.");
            }

            if (!TryReadKeyName(bytes, out var name) || name.OrganizationId != caller.OrganizationId || name.Region != region)
            {
                return Problems.BadRequest("Wrapped key not usable", "The wrapped key is malformed or not wrapped under the organisation's key for its region.");
            }

            newKeys.Add(new WrappedKeyRow { KeyId = keyId, OrganizationId = caller.OrganizationId, CameraId = camera.Id, KeyEncryptionKeyId = name.ToString(), Wrapped = bytes, IndexedAt = now });
        }

        index.WrappedKeys.AddRange(newKeys);
        index.InitSegments.AddRange(newInits.Select(i => new InitSegmentRow
        {
            CameraId = camera.Id,
            OrganizationId = caller.OrganizationId,
            ObjectName = i.ObjectName,
            Size = i.Size,
            Sha256 = Convert.FromHexString(i.Sha256),
            KeyId = i.KeyId,
            Iv = Convert.FromHexString(i.Iv),
            IndexedAt = now,
        }));
        index.Segments.AddRange(newSegments.Select(s => new SegmentRow
        {
            OrganizationId = caller.OrganizationId,
            CameraId = camera.Id,
            Sequence = s.Sequence,
            StartTime = s.StartTime,
            DurationMs = s.DurationMs,
            ObjectName = s.Media.ObjectName,
            Size = s.Media.Size,
            Sha256 = Convert.FromHexString(s.Media.Sha256),
            KeyId = s.Media.KeyId,
            Iv = Convert.FromHexString(s.Media.Iv),
            InitObjectName = s.InitObjectName,
            Codec = s.Codec,
            Width = s.Width,
            Height = s.Height,
            IndexedAt = now,
        }));
        try
        {
            await index.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another request indexed some of the same rows first. The batch changed nothing; a retry
            // sees those rows and either counts them (same content) or answers 409.
            return Problems.Conflict("Indexed concurrently", "Some of these segments were indexed by another request; retry the batch.");
        }

        return TypedResults.Ok(new SegmentBatchResponse(newSegments.Count + newInits.Count, batch.Segments.Count + batch.InitSegments.Count - newSegments.Count - newInits.Count));
    }

    static bool TryReadKeyName(byte[] bytes, out KeyEncryptionKeyId name)
    {
        name = null!;
        try
        {
            return KeyEncryptionKeyId.TryParse(WrappedKey.Parse(bytes).KeyEncryptionKeyId, out name);
        }
        catch (FormatException)
        {
            return false;
        }
    }

    static bool Same(SegmentRow row, SegmentMetadata segment) =>
        row.ObjectName == segment.Media.ObjectName && row.Size == segment.Media.Size && row.KeyId == segment.Media.KeyId
        && row.Sha256.AsSpan().SequenceEqual(Convert.FromHexString(segment.Media.Sha256))
        && row.Iv.AsSpan().SequenceEqual(Convert.FromHexString(segment.Media.Iv))
        && row.StartTime == segment.StartTime && row.DurationMs == segment.DurationMs && row.InitObjectName == segment.InitObjectName;

    static bool Same(InitSegmentRow row, StoredObject init) =>
        row.Size == init.Size && row.KeyId == init.KeyId
        && row.Sha256.AsSpan().SequenceEqual(Convert.FromHexString(init.Sha256))
        && row.Iv.AsSpan().SequenceEqual(Convert.FromHexString(init.Iv));
}
