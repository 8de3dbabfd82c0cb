using CloudStore.Contracts;
using CloudStore.ControlPlane.Auth;
using CloudStore.ControlPlane.Platform;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace CloudStore.ControlPlane.Recordings;

/// <summary>Step E: a device indexes what it uploaded (<see cref="RecordingIndex.IndexAsync"/>).</summary>
public static class SegmentEndpoints
{
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
        SegmentBatch batch, CallerContext caller, RecordingIndex recordings, TimeProvider time, CancellationToken cancellationToken)
    {
        var validation = SegmentValidation.Check(batch, time.GetUtcNow());
        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        if (await caller.CameraAsync(batch.CameraId, cancellationToken) is not { } camera)
        {
            return Problems.NotFound("camera on this device");
        }

        if (camera.Camera.DeletedAt is not null)
        {
            // Its recordings are being deleted or kept as they are: nothing is added to them.
            return Problems.Conflict("Camera deleted", "The camera was deleted by an administrator; it indexes nothing more.");
        }

        if (camera.Region is null)
        {
            return Problems.Conflict("The organisation has no region served by this deployment");
        }

        var (indexed, refused) = await recordings.IndexAsync(caller.Caller.OrganizationId, camera.Camera.Id, camera.Region, batch, cancellationToken);
        return indexed is not null ? TypedResults.Ok(indexed) : TypedResults.Problem(title: refused!.Title, detail: refused.Detail, statusCode: refused.Status);
    }
}
