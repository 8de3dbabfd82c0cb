using CloudStore.ControlPlane.Credentials;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Regional;
using CloudStore.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace CloudStore.ControlPlane.Platform;

/// <summary>
/// <c>GET /api/health</c>: the directory database, every configured region's index database and the key
/// server, each reported by name (no connection string or exception text), 503 when one fails.
/// </summary>
public static class HealthEndpoints
{
    public static IServiceCollection AddControlPlaneHealth(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddDatabase<DirectoryDbContext>("directory")
            .AddCheck<RegionalIndexesHealthCheck>("regional-indexes")
            .AddHttpDependency("keyserver", provider =>
                new Uri(new Uri(provider.GetRequiredService<IOptions<KeyServerOptions>>().Value.Url.TrimEnd('/') + "/"), "health"));
        return services;
    }

    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapCloudStoreHealth("/api/health").WithMetadata(new HttpMethodMetadata(["GET"])).WithName("Health").WithTags("Health");
        return app;
    }
}

/// <summary>Each region this deployment serves has an index database that answers.</summary>
public sealed class RegionalIndexesHealthCheck(RegionCatalog regions) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var unreachable = new List<string>();
        foreach (var region in regions.Configured)
        {
            await using var index = regions.OpenIndex(region);
            if (!await index.Database.CanConnectAsync(cancellationToken))
            {
                unreachable.Add(region);
            }
        }

        return unreachable.Count == 0
            ? HealthCheckResult.Healthy($"{regions.Configured.Count()} regions")
            : HealthCheckResult.Unhealthy("index unreachable: " + string.Join(", ", unreachable));
    }
}
