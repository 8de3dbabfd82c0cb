using CloudStore.Contracts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudStore.KeyServer.KeyStores;

/// <summary>Public keys for the control plane, which hands them to devices with their upload grants.</summary>
public static class PublicKeyEndpoints
{
    /// <summary>The policy for calls from the control plane (tokens with role <c>service</c>).</summary>
    public const string ServicePolicy = "service";

    public static IEndpointRouteBuilder MapPublicKeys(this IEndpointRouteBuilder app)
    {
        app.MapGet("/v1/organizations/{organizationId:guid}/regions/{region}/public-key", Get).RequireAuthorization(ServicePolicy);
        return app;
    }

    static async Task<Results<Ok<PublicKeyResponse>, ProblemHttpResult>> Get(Guid organizationId, string region, IKeyStore keys, CancellationToken cancellationToken)
    {
        if (!Regions.All.Contains(region))
        {
            return TypedResults.Problem(title: "Unknown region", statusCode: StatusCodes.Status404NotFound);
        }

        return TypedResults.Ok(await keys.GetOrCreatePublicKeyAsync(organizationId, region, cancellationToken));
    }
}
