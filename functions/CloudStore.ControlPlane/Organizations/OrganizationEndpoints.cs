using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Auth;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Platform;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace CloudStore.ControlPlane.Organizations;

/// <summary>The caller's own organisation. Organisations are created by operations (<see cref="OrganizationProvisioning"/>), not over the API.</summary>
public static class OrganizationEndpoints
{
    public static IServiceCollection AddOrganizations(this IServiceCollection services) =>
        services.AddScoped<OrganizationProvisioning>().AddScoped<SubscriptionWatcher>();

    public static IEndpointRouteBuilder MapOrganizations(this IEndpointRouteBuilder app)
    {
        var organization = app.MapGroup("/api/organization").WithTags("Organization");
        organization.MapGet("/", Get).WithName("GetOrganization").RequireAuthorization(Policies.Member).WithSummary("The caller's organisation.");
        organization.MapPut("/policy", SetPolicy).WithName("SetOrganizationPolicy").RequireAuthorization(Policies.Administrator)
            .WithSummary("Two-step verification for every role: it can only be on; asking to switch it off is refused with 409.");
        organization.MapPut("/region", SetHomeRegion).WithName("SetOrganizationRegion").RequireAuthorization(Policies.Administrator)
            .WithSummary("Choose the region where recordings are stored (once).");
        organization.MapGet("/notifications", Notifications).WithName("ListNotifications").RequireAuthorization(Policies.Administrator)
            .WithSummary("What administrators should know, newest first: subscription ending or ended, licences about to lapse.");
        return app;
    }

    static async Task<Results<Ok<OrganizationResponse>, ProblemHttpResult>> Get(HttpContext context, DirectoryDbContext db, CancellationToken cancellationToken)
    {
        var caller = Caller.From(context.User);
        var organization = await db.Organizations.SingleOrDefaultAsync(o => o.Id == caller.OrganizationId, cancellationToken);
        return organization is null ? Problems.NotFound("organization") : TypedResults.Ok(ToResponse(organization));
    }

    static async Task<Results<Ok<OrganizationResponse>, ProblemHttpResult>> SetPolicy(
        OrganizationPolicyRequest request, HttpContext context, DirectoryDbContext db, AuditLog audit, CancellationToken cancellationToken)
    {
        var caller = Caller.From(context.User);
        var organization = await db.Organizations.SingleOrDefaultAsync(o => o.Id == caller.OrganizationId, cancellationToken);
        if (organization is null)
        {
            return Problems.NotFound("organization");
        }

        if (!request.RequireTwoFactorForAll)
        {
            audit.Add(caller.OrganizationId, caller.Actor, AuditActions.OrganizationPolicyChanged, $"organization:{organization.Id}",
                AuditLog.Failure("two-step-verification-cannot-be-switched-off"));
            await db.SaveChangesAsync(cancellationToken);
            return Problems.Conflict(
                "Two-step verification cannot be switched off",
                "Every administrator, operator and viewer signs in with a password and an authenticator code; no organisation may relax this.");
        }

        if (!organization.RequireTwoFactorForAll)
        {
            organization.RequireTwoFactorForAll = true;
            audit.Add(caller.OrganizationId, caller.Actor, AuditActions.OrganizationPolicyChanged, $"organization:{organization.Id}", "success:require-2fa-for-all=true");
            await db.SaveChangesAsync(cancellationToken);
        }

        return TypedResults.Ok(ToResponse(organization));
    }

    static async Task<Results<Ok<OrganizationResponse>, ValidationProblem, ProblemHttpResult>> SetHomeRegion(
        OrganizationRegionRequest request, HttpContext context, DirectoryDbContext db, AuditLog audit, CancellationToken cancellationToken)
    {
        if (!Regions.All.Contains(request.Region))
        {
            return new Validation().Add(nameof(request.Region), "One of " + string.Join(", ", Regions.All) + ".").Problem();
        }

        var caller = Caller.From(context.User);
        var organization = await db.Organizations.SingleOrDefaultAsync(o => o.Id == caller.OrganizationId, cancellationToken);
        if (organization is null)
        {
            return Problems.NotFound("organization");
        }

        if (organization.HomeRegion is { } current && current != request.Region)
        {
            // Moving recordings between regions is a migration, not a setting: residency must never be changed by a click.
            return Problems.Conflict("The home region is already chosen", $"Recordings are stored in {current}.");
        }

        if (organization.HomeRegion is null)
        {
            organization.HomeRegion = request.Region;
            audit.Add(caller.OrganizationId, caller.Actor, AuditActions.OrganizationRegionChosen, $"organization:{organization.Id}", $"success:{request.Region}");
            await db.SaveChangesAsync(cancellationToken);
        }

        return TypedResults.Ok(ToResponse(organization));
    }

    static async Task<Ok<List<NotificationResponse>>> Notifications(HttpContext context, DirectoryDbContext db, CancellationToken cancellationToken)
    {
        var caller = Caller.From(context.User);
        return TypedResults.Ok(await db.Notifications.AsNoTracking().Where(n => n.OrganizationId == caller.OrganizationId)
            .OrderByDescending(n => n.CreatedAt).ThenBy(n => n.Id)
            .Select(n => new NotificationResponse(n.Id, n.Kind, n.Message, n.CreatedAt)).ToListAsync(cancellationToken));
    }

    static OrganizationResponse ToResponse(Organization o) => new(o.Id, o.Name, o.RequireTwoFactorForAll, o.CreatedAt, o.HomeRegion, o.SubscriptionEndsAt, o.DefaultRetentionDays);
}
