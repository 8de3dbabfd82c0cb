using System.Reflection;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace CloudStore.Hosting;

/// <summary>
/// What every CloudStore host gets from one call (eShop's ServiceDefaults): logs, traces and metrics
/// through OpenTelemetry, exported only where an exporter is configured, and health checks answered by
/// <see cref="MapCloudStoreHealth"/>.
/// </summary>
public static class ServiceDefaults
{
    /// <summary>The standard OpenTelemetry variable: set, every signal is exported over OTLP (protocol from <c>OTEL_EXPORTER_OTLP_PROTOCOL</c>).</summary>
    public const string OtlpEndpointVariable = "OTEL_EXPORTER_OTLP_ENDPOINT";

    /// <summary>Set, every signal is exported to Azure Monitor (Application Insights) as well.</summary>
    public const string AzureMonitorVariable = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>Where the Azure Monitor exporter keeps telemetry it could not send yet (default: the exporter's own temp folder).</summary>
    public const string AzureMonitorStorageDirectoryKey = "AzureMonitor:StorageDirectory";

    /// <param name="serviceName">The host's <c>service.name</c> in telemetry, e.g. <c>cloudstore-keyserver</c>.</param>
    public static TBuilder AddCloudStoreServiceDefaults<TBuilder>(this TBuilder builder, string serviceName)
        where TBuilder : IHostApplicationBuilder
    {
        builder.AddCloudStoreTelemetry(serviceName);
        builder.Services.AddHealthChecks();
        // Outgoing calls go through the client factory (BannedSymbols: no new HttpClient()).
        builder.Services.AddHttpClient();
        return builder;
    }

    static void AddCloudStoreTelemetry(this IHostApplicationBuilder builder, string serviceName)
    {
        var probes = new HealthProbePaths();
        builder.Services.AddSingleton(probes);

        // ASP.NET Core's "Request starting …" lines carry the full query string (SAS signatures, tokens):
        // never below Warning, whatever the configuration says.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource
                .AddService(serviceName, serviceVersion: Version(builder.Environment.ApplicationName))
                .AddAttributes([new("deployment.environment.name", builder.Environment.EnvironmentName)]))
            .WithLogging(configureBuilder: null, configureOptions: logging =>
            {
                logging.IncludeFormattedMessage = true;
                logging.IncludeScopes = true;
            })
            .WithTracing(tracing => tracing
                .AddSource(CloudStoreTelemetry.Name)
                .AddAspNetCoreInstrumentation(aspNetCore =>
                {
                    aspNetCore.Filter = context => !probes.Matches(context.Request.Path);
                    // 1.20 replaces query values with "Redacted" by default, unless an experimental variable
                    // turns that off; the parameter names can be telling too, so the query goes altogether.
                    aspNetCore.EnrichWithHttpRequest = (activity, _) => activity.SetTag("url.query", null);
                })
                .AddHttpClientInstrumentation(http =>
                {
                    http.FilterHttpRequestMessage = request => !request.Options.TryGetValue(CloudStoreTelemetry.HealthProbe, out var probe) || !probe;
                    // .NET 10 writes url.full itself with the query as "*" unless System.Net.Http.DisableUriRedaction
                    // is set; without the query whatever the switches say.
                    http.EnrichWithHttpRequestMessage = (activity, request) =>
                        activity.SetTag("url.full", CloudStoreTelemetry.WithoutQuery(request.RequestUri));
                }))
            .WithMetrics(metrics => metrics
                .AddMeter(CloudStoreTelemetry.Name)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation());

        if (!string.IsNullOrWhiteSpace(builder.Configuration[OtlpEndpointVariable]))
        {
            // Endpoint, protocol, headers and batching come from the standard OTEL_* variables.
            telemetry.UseOtlpExporter();
        }

        if (builder.Configuration[AzureMonitorVariable] is { Length: > 0 } connectionString)
        {
            // Per signal rather than UseAzureMonitorExporter, which would also install its own sampler for
            // every exporter (OTLP included) and Live Metrics.
            var storageDirectory = builder.Configuration[AzureMonitorStorageDirectoryKey];
            void Configure(Azure.Monitor.OpenTelemetry.Exporter.AzureMonitorExporterOptions azure)
            {
                azure.ConnectionString = connectionString;
                azure.EnableLiveMetrics = false;
                if (!string.IsNullOrEmpty(storageDirectory))
                {
                    azure.StorageDirectory = storageDirectory;
                }
            }

            telemetry
                .WithTracing(tracing => tracing.AddAzureMonitorTraceExporter(Configure))
                .WithMetrics(metrics => metrics.AddAzureMonitorMetricExporter(Configure))
                .WithLogging(logging => logging.AddAzureMonitorLogExporter(Configure));
        }
    }

    /// <summary>
    /// Answers the host's health checks at <paramref name="path"/> as JSON
    /// <c>{"status":…,"checks":{"name":{"status":…,"description":…}}}</c>: 200 when healthy (or degraded),
    /// 503 when any check is unhealthy. Anonymous, and left out of traces and HTTP metrics.
    /// </summary>
    public static IEndpointConventionBuilder MapCloudStoreHealth(this IEndpointRouteBuilder endpoints, string path = "/health")
    {
        endpoints.ServiceProvider.GetService<HealthProbePaths>()?.Add(path);
        return endpoints.MapHealthChecks(path, new HealthCheckOptions
        {
            ResponseWriter = HealthResponse.WriteAsync,
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status200OK,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        }).AllowAnonymous().DisableHttpMetrics();
    }

    static string? Version(string applicationName)
    {
        var assembly = AppDomain.CurrentDomain.GetAssemblies().FirstOrDefault(a => a.GetName().Name == applicationName) ?? Assembly.GetEntryAssembly();
        return assembly?.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? assembly?.GetName().Version?.ToString();
    }

    /// <summary>The health paths a host maps: requests to them make no server span.</summary>
    sealed class HealthProbePaths
    {
        readonly Lock _gate = new();
        volatile string[] _paths = [];

        public void Add(string path)
        {
            lock (_gate)
            {
                _paths = [.. _paths, path];
            }
        }

        public bool Matches(PathString path)
        {
            foreach (var probe in _paths)
            {
                if (path.Equals(probe, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }

            return false;
        }
    }
}
