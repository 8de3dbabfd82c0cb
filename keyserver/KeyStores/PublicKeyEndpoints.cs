using System.Security.Claims;
using CloudStore.Contracts;
using CloudStore.KeyServer.Unwrap;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudStore.KeyServer.KeyStores;

/// <summary>
/// The organisations' keys as the control plane uses them: public keys, handed to devices with their upload
/// grants, and destruction (crypto-shredding) when an organisation is deleted.
/// </summary>
public static class PublicKeyEndpoints
{
    /// <summary>The policy for calls from the control plane (tokens with role <c>service</c>).</summary>
    public const string ServicePolicy = "service";

    public static IEndpointRouteBuilder MapPublicKeys(this IEndpointRouteBuilder app)
    {
        var keys = app.MapGroup("/v1/organizations/{organizationId:guid}/regions/{region}").RequireAuthorization(ServicePolicy);
        keys.MapGet("/public-key", Get);
        keys.MapDelete("/keys", Destroy);
        return app;
    }

    static async Task<Results<Ok<PublicKeyResponse>, ProblemHttpResult>> Get(Guid organizationId, string region, IKeyStore keys, CancellationToken cancellationToken)
    {
        if (!Regions.All.Contains(region))
        {
            return TypedResults.Problem(title: "Unknown region", statusCode: StatusCodes.Status404NotFound);
        }

        try
        {
            return TypedResults.Ok(await keys.GetOrCreatePublicKeyAsync(organizationId, region, cancellationToken));
        }
        catch (KeyDestroyedException)
        {
            return TypedResults.Problem(title: "Key destroyed", detail: "The organisation was deleted; it gets no key again.", statusCode: StatusCodes.Status410Gone);
        }
    }

    /// <summary>Destroys every version of the organisation's key in the region; audited; idempotent (204 either way).</summary>
    static async Task<Results<NoContent, ProblemHttpResult>> Destroy(
        Guid organizationId, string region, ClaimsPrincipal caller, HttpContext context, IKeyStore keys, KeyAudit audit, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!Regions.All.Contains(region))
        {
            return TypedResults.Problem(title: "Unknown region", statusCode: StatusCodes.Status404NotFound);
        }

        var existed = await keys.DestroyAsync(organizationId, region, cancellationToken);
        await audit.WriteAsync(time.GetUtcNow(), organizationId.ToString(), caller.FindFirstValue(ClaimNames.Subject) ?? "service",
            context.Connection.RemoteIpAddress?.ToString() ?? "unknown", "-", $"{region}/{organizationId}",
            existed ? "success:destroyed" : "success:none", cancellationToken);
        return TypedResults.NoContent();
    }
}
