using CloudStore.Contracts;
using CloudStore.ControlPlane.Auth;
using CloudStore.ControlPlane.Platform;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudStore.ControlPlane.Retention;

/// <summary>Retention settings (administrators) and legal holds of a camera's recordings.</summary>
public static class RetentionEndpoints
{
    public static IEndpointRouteBuilder MapRetention(this IEndpointRouteBuilder app)
    {
        var camera = app.MapGroup("/api/cameras/{id:guid}").WithTags("Retention");
        camera.MapPut("/retention", SetCameraRetention).WithName("SetCameraRetention").RequireAuthorization(Policies.Administrator)
            .WithSummary("Days the camera's recordings are kept (1–3,650); null follows the organisation's default. Applies at the next hourly sweep.");
        camera.MapPost("/holds", PlaceHold).WithName("PlaceLegalHold").RequireAuthorization(Policies.Administrator)
            .WithSummary("Keep the camera's recordings in a time range beyond retention, for a case, until released.");
        camera.MapGet("/holds", ListHolds).WithName("ListLegalHolds").RequireAuthorization(Policies.Recordings)
            .WithSummary("The camera's legal holds, active and released.");
        camera.MapPost("/holds/{holdId:guid}/release", ReleaseHold).WithName("ReleaseLegalHold").RequireAuthorization(Policies.Administrator)
            .WithSummary("Release a legal hold: retention applies to its range again from the next sweep.");

        app.MapPut("/api/organization/retention", SetOrganizationRetention).WithName("SetOrganizationRetention").WithTags("Retention")
            .RequireAuthorization(Policies.Administrator)
            .WithSummary("Default days recordings are kept (1–3,650) for cameras without their own.");
        return app;
    }

    static async Task<Results<Ok<CameraRetentionResponse>, ValidationProblem, ProblemHttpResult>> SetCameraRetention(
        Guid id, CameraRetentionRequest request, LegalHolds service, CancellationToken cancellationToken)
    {
        var validation = LegalHolds.CheckDays(nameof(request.Days), request.Days);
        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        return await service.SetCameraRetentionAsync(id, request.Days, cancellationToken) switch
        {
            ({ } set, _) => TypedResults.Ok(set),
            (_, { } conflict) => Problems.Conflict(conflict.Title, conflict.Detail),
            _ => Problems.NotFound("camera"),
        };
    }

    static async Task<Results<Ok<OrganizationRetentionResponse>, ValidationProblem, ProblemHttpResult>> SetOrganizationRetention(
        OrganizationRetentionRequest request, LegalHolds service, CancellationToken cancellationToken)
    {
        var validation = LegalHolds.CheckDays(nameof(request.Days), request.Days);
        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        return await service.SetOrganizationRetentionAsync(request.Days, cancellationToken) is { } set ? TypedResults.Ok(set) : Problems.NotFound("organization");
    }

    static async Task<Results<Created<LegalHoldResponse>, ValidationProblem, ProblemHttpResult>> PlaceHold(
        Guid id, CreateLegalHoldRequest request, LegalHolds service, CancellationToken cancellationToken)
    {
        var validation = LegalHolds.Check(request);
        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        return await service.PlaceAsync(id, request, cancellationToken) switch
        {
            ({ } hold, _) => TypedResults.Created($"/api/cameras/{id}/holds/{hold.Id}", hold),
            (_, { } conflict) => Problems.Conflict(conflict.Title, conflict.Detail),
            _ => Problems.NotFound("camera"),
        };
    }

    static async Task<Results<Ok<IReadOnlyList<LegalHoldResponse>>, ProblemHttpResult>> ListHolds(Guid id, LegalHolds service, CancellationToken cancellationToken) =>
        await service.ListAsync(id, cancellationToken) is { } holds ? TypedResults.Ok(holds) : Problems.NotFound("camera");

    static async Task<Results<Ok<LegalHoldResponse>, ProblemHttpResult>> ReleaseHold(Guid id, Guid holdId, LegalHolds service, CancellationToken cancellationToken) =>
        await service.ReleaseAsync(id, holdId, cancellationToken) is { } hold ? TypedResults.Ok(hold) : Problems.NotFound("legal hold");
}
