using CloudStore.Contracts;
using CloudStore.ControlPlane.Auth;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Platform;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace CloudStore.ControlPlane.Decommissioning;

/// <summary>
/// The end of things: an administrator deletes a camera, a device, or the whole organisation. Each answers at once with
/// what happens next; the hourly sweep does the deleting of recordings (<see cref="DecommissionSweep"/>).
/// </summary>
public static class DecommissionEndpoints
{
    public static IServiceCollection AddDecommissioning(this IServiceCollection services) =>
        services.AddScoped<CameraDeletions>().AddScoped<OrganizationDeletion>().AddScoped<DecommissionSweep>();

    public static IEndpointRouteBuilder MapDecommissioning(this IEndpointRouteBuilder app)
    {
        app.MapDelete("/api/cameras/{id:guid}", DeleteCamera).WithName("DeleteCamera").WithTags("Cameras").RequireAuthorization(Policies.Administrator)
            .WithSummary("Delete a camera; ?recordings=delete (the next sweep deletes them, except ranges under an active legal hold) or ?recordings=keep (until their retention ends). Frees its licence; no upload grant from now on.");
        app.MapDelete("/api/devices/{id:guid}", DeleteDevice).WithName("DeleteDevice").WithTags("Devices").RequireAuthorization(Policies.Administrator)
            .WithSummary("Revoke and delete a device with its cameras (?recordings=delete|keep, as for a camera); its serial can be enrolled again as a new device.");
        app.MapDelete("/api/organization", DeleteOrganization).WithName("DeleteOrganization").WithTags("Organization").RequireAuthorization(Policies.Administrator)
            .WithSummary("Delete the organisation: its name typed and a fresh authenticator code. Every sign-in, token and device is refused at once, its keys are destroyed in every region, and the sweep deletes the rest.");
        return app;
    }

    static async Task<Results<Ok<CameraDeletedResponse>, ValidationProblem, ProblemHttpResult>> DeleteCamera(
        Guid id, string? recordings, CallerContext caller, CameraDeletions deletions, CancellationToken cancellationToken)
    {
        if (!RecordingsChoiceText.TryParse(recordings, out var choice))
        {
            return ChoiceRequired();
        }

        var (outcome, deleted) = await deletions.DeleteCameraAsync(caller.Caller, id, choice, cancellationToken);
        return outcome switch
        {
            DeletionOutcome.Done => TypedResults.Ok(deleted!),
            DeletionOutcome.AlreadyDeleted => Problems.Conflict("Camera already deleted", "Its recordings are deleted or kept as chosen when it was deleted."),
            _ => Problems.NotFound("camera"),
        };
    }

    static async Task<Results<Ok<DeviceDeletedResponse>, ValidationProblem, ProblemHttpResult>> DeleteDevice(
        Guid id, string? recordings, CallerContext caller, CameraDeletions deletions, CancellationToken cancellationToken)
    {
        if (!RecordingsChoiceText.TryParse(recordings, out var choice))
        {
            return ChoiceRequired();
        }

        var (outcome, deleted) = await deletions.DeleteDeviceAsync(caller.Caller, id, choice, cancellationToken);
        return outcome == DeletionOutcome.Done ? TypedResults.Ok(deleted!) : Problems.NotFound("device");
    }

    static async Task<Results<Accepted<OrganizationDeletionResponse>, ValidationProblem, ProblemHttpResult>> DeleteOrganization(
        [FromBody] DeleteOrganizationRequest request, CallerContext caller, OrganizationDeletion deletion, CancellationToken cancellationToken)
    {
        var validation = new Validation()
            .Text(nameof(request.ConfirmName), request.ConfirmName, Limits.NameLength)
            .Text(nameof(request.Code), request.Code, 16);
        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        var result = await deletion.RequestAsync(caller.Caller, request.ConfirmName, request.Code, cancellationToken);
        return result.Outcome switch
        {
            OrganizationDeletionOutcome.Accepted => TypedResults.Accepted("/api/organization", ToResponse(result.Tombstone!)),
            OrganizationDeletionOutcome.NameMismatch => new Validation().Add(nameof(request.ConfirmName),
                "Type the organisation's name exactly as it is shown, to confirm that this organisation is to be deleted.").Problem(),
            OrganizationDeletionOutcome.NoSecondFactor => Problems.Conflict("A fresh authenticator code is needed",
                "Deleting the organisation needs a code from the authenticator of a CloudStore account; single sign-on accounts have none. Ask operations."),
            OrganizationDeletionOutcome.SecondFactorRefused => Problems.Forbidden("Not confirmed", "The authenticator code was not accepted; wait for the next code and try again."),
            OrganizationDeletionOutcome.LegalHoldsActive => Problems.Conflict("Recordings are under legal hold",
                $"{result.ActiveHolds} legal hold(s) are active. Release each one first (POST /api/cameras/{{id}}/holds/{{holdId}}/release): deleting the organisation would destroy what they keep."),
            OrganizationDeletionOutcome.AlreadyDeleted => Problems.Conflict("Organisation already deleted"),
            _ => Problems.NotFound("organization"),
        };
    }

    /// <summary>What the organisation's deletion has done so far, for the administrator's answer and operations' command.</summary>
    public static OrganizationDeletionResponse ToResponse(OrganizationTombstone tombstone)
    {
        var destroyed = tombstone.KeysDestroyedRegions;
        var pending = Regions.All.Except(destroyed, StringComparer.Ordinal).ToList();
        var detail = pending.Count == 0
            ? "Deleted: its keys are destroyed in every region, so none of its recordings can be decrypted any more. The hourly sweep deletes its recordings, index rows and directory entries; an audit tombstone remains."
            : "Deleted: nobody of it can sign in or upload any more. Its keys are destroyed where the key server answered; the hourly sweep retries the other regions before it deletes its recordings, index rows and directory entries.";
        return new OrganizationDeletionResponse(tombstone.OrganizationId, tombstone.DeletedAt, destroyed, pending, detail);
    }

    static ValidationProblem ChoiceRequired() => new Validation().Add("recordings",
        $"Required: ?recordings={RecordingsChoices.Delete} (deleted at the next sweep, except ranges under legal hold) or ?recordings={RecordingsChoices.Keep} (kept until their retention ends).").Problem();
}
