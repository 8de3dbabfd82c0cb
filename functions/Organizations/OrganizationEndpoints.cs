using CloudStore.Contracts;
using CloudStore.Functions.Audit;
using CloudStore.Functions.Auth;
using CloudStore.Functions.Data;
using CloudStore.Functions.Platform;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace CloudStore.Functions.Organizations;

/// <summary>The caller's own organisation. Organisations are created by operations (<see cref="OrganizationProvisioning"/>), not over the API.</summary>
public static class OrganizationEndpoints
{
    public static IServiceCollection AddOrganizations(this IServiceCollection services) => services.AddScoped<OrganizationProvisioning>();

    public static IEndpointRouteBuilder MapOrganizations(this IEndpointRouteBuilder app)
    {
        var organization = app.MapGroup("/api/organization").WithTags("Organization");
        organization.MapGet("/", Get).RequireAuthorization(Policies.Member).WithSummary("The caller's organisation.");
        organization.MapPut("/policy", SetPolicy).RequireAuthorization(Policies.Administrator)
            .WithSummary("Whether operators and viewers must also use two-step verification.");
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

        if (organization.RequireTwoFactorForAll != request.RequireTwoFactorForAll)
        {
            organization.RequireTwoFactorForAll = request.RequireTwoFactorForAll;
            audit.Add(caller.OrganizationId, caller.Actor, AuditActions.OrganizationPolicyChanged, $"organization:{organization.Id}",
                $"success:require-2fa-for-all={request.RequireTwoFactorForAll.ToString().ToLowerInvariant()}");
            await db.SaveChangesAsync(cancellationToken);
        }

        return TypedResults.Ok(ToResponse(organization));
    }

    static OrganizationResponse ToResponse(Organization o) => new(o.Id, o.Name, o.RequireTwoFactorForAll, o.CreatedAt);
}
