using CloudStore.ControlPlane.Credentials;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Regional;
using CloudStore.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace CloudStore.ControlPlane.Platform;

/// <summary>
/// <c>GET /api/health</c>: the directory database, every configured region's index database and storage,
/// and the key server, each reported by name (no connection string or exception text), 503 when one fails.
/// </summary>
public static class HealthEndpoints
{
    public static IServiceCollection AddControlPlaneHealth(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddDatabase<DirectoryDbContext>("directory")
            .AddCheck<RegionsHealthCheck>("regions", timeout: CloudStoreHealthChecks.DefaultTimeout)
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

/// <summary>
/// Each region this deployment serves has an index database that answers and storage that answers with the
/// control plane's own credentials (a HEAD of an object that never exists: "not found" is the healthy answer).
/// </summary>
public sealed class RegionsHealthCheck(RegionCatalog regions) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var failing = new List<string>();
        foreach (var region in regions.Configured)
        {
            await using (var index = regions.OpenIndex(region))
            {
                if (!await index.Database.CanConnectAsync(cancellationToken))
                {
                    failing.Add($"{region} index");
                }
            }

            try
            {
                await regions.Storage(region).SizeAsync(Guid.Empty, "health/probe", cancellationToken);
            }
            catch (Exception e) when (e is DependencyUnavailableException or Azure.RequestFailedException or Amazon.Runtime.AmazonServiceException)
            {
                failing.Add($"{region} storage");
            }
        }

        return failing.Count == 0
            ? HealthCheckResult.Healthy($"{regions.Configured.Count()} regions")
            : HealthCheckResult.Unhealthy("unreachable: " + string.Join(", ", failing));
    }
}
