using CloudStore.Contracts;
using CloudStore.ControlPlane.Auth;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Platform;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace CloudStore.ControlPlane.Audit;

public static class AuditEndpoints
{
    public const int MaxPageSize = 1000;

    public static IServiceCollection AddAudit(this IServiceCollection services) => services.AddScoped<AuditLog>();

    public static IEndpointRouteBuilder MapAudit(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/audit", Query).WithName("QueryAudit").WithTags("Audit").RequireAuthorization(Policies.Administrator)
            .WithSummary("The organisation's audit log, newest first: filter by time range, actor, action and part of the target; page with 'before' (an entry id).");
        return app;
    }

    static async Task<Results<Ok<List<AuditEntryResponse>>, ValidationProblem>> Query(
        HttpContext context,
        DirectoryDbContext db,
        DateTimeOffset? from,
        DateTimeOffset? to,
        string? actor,
        string? action,
        string? target,
        long? before,
        int? limit,
        CancellationToken cancellationToken)
    {
        var validation = new Validation().TimeRange(nameof(from), from, nameof(to), to, maxLength: null);
        if (limit is < 1 or > MaxPageSize)
        {
            validation.Add(nameof(limit), $"From 1 to {MaxPageSize}.");
        }

        if (actor?.Length > 200 || action?.Length > 64 || target?.Length > 200)
        {
            validation.Add(actor?.Length > 200 ? nameof(actor) : action?.Length > 64 ? nameof(action) : nameof(target), "Too long.");
        }

        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        var caller = Caller.From(context.User);
        var query = db.AuditEntries.Where(e => e.OrganizationId == caller.OrganizationId);
        if (from is { } start)
        {
            query = query.Where(e => e.Time >= start);
        }

        if (to is { } end)
        {
            query = query.Where(e => e.Time <= end);
        }

        if (actor is not null)
        {
            query = query.Where(e => e.Actor == actor);
        }

        if (action is not null)
        {
            query = query.Where(e => e.Action == action);
        }

        if (target is { Length: > 0 })
        {
            // Part of the target: "camera:" finds every camera's entries, an id finds that one's.
            query = query.Where(e => e.Target.Contains(target));
        }

        if (before is { } cursor)
        {
            query = query.Where(e => e.Id < cursor);
        }

        var entries = await query.OrderByDescending(e => e.Id).Take(limit ?? 100)
            .Select(e => new AuditEntryResponse(e.Id, e.Time, e.Actor, e.SourceAddress, e.Action, e.Target, e.Outcome, e.Count))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(entries);
    }
}
