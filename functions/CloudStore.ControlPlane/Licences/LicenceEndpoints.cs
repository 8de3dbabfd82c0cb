using CloudStore.Contracts;
using CloudStore.ControlPlane.Auth;
using CloudStore.ControlPlane.Platform;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudStore.ControlPlane.Licences;

/// <summary>The organisation's licences, for its administrators. Operations adds them (<c>licences</c> command).</summary>
public static class LicenceEndpoints
{
    public static IServiceCollection AddLicences(this IServiceCollection services) => services.AddScoped<LicenceService>();

    public static IEndpointRouteBuilder MapLicences(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/organization/licences", List).WithName("ListLicences").WithTags("Organization").RequireAuthorization(Policies.Administrator)
            .WithSummary("The organisation's licences: free, allocated (to which camera) or lapsed (and why), and the end of the allocation window.");
        return app;
    }

    static async Task<Ok<LicencesResponse>> List(CallerContext caller, LicenceService licences, CancellationToken cancellationToken)
    {
        var (windowEndsAt, all) = await licences.ListAsync(caller.Caller.OrganizationId, cancellationToken);
        return TypedResults.Ok(new LicencesResponse(
            windowEndsAt,
            all.Count(l => l.State == LicenceState.Free),
            all.Count(l => l.State == LicenceState.Allocated),
            all.Count(l => l.State == LicenceState.Lapsed),
            [.. all.Select(l => new LicenceResponse(l.Id, l.State.ToString(), l.Source, l.PartnerKeyHint, l.CameraId, l.AddedAt, l.AllocatedAt, l.LapseReason))]));
    }
}
