using CloudStore.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CloudStore.Hosting;

/// <summary>
/// Health checks any host can register. Their descriptions are short fixed sentences or status codes:
/// never a URL with its query, a path with a secret, or exception text.
/// </summary>
public static class CloudStoreHealthChecks
{
    /// <summary>Tags checks of another service, so a probe can tell them from the host's own.</summary>
    public const string DependencyTag = "dependency";

    /// <summary>How long a check may take before it counts as failed.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Another host answers its health URL with a 2xx: a GET through a named <see cref="HttpClient"/>
    /// (<c>health-{name}</c>) that trusts what the host's outbound calls trust (<c>Tls:CaCertificateFile</c>).
    /// </summary>
    /// <param name="healthUrl">The dependency's health URL, from the host's options.</param>
    public static IHealthChecksBuilder AddHttpDependency(this IHealthChecksBuilder checks, string name, Func<IServiceProvider, Uri> healthUrl, TimeSpan? timeout = null)
    {
        var clientName = "health-" + name;
        var limit = timeout ?? DefaultTimeout;
        checks.Services.AddHttpClient(clientName, http => http.Timeout = limit)
            .ConfigurePrimaryHttpMessageHandler(services => TrustedHttp.CreateHandler(
                services.GetRequiredService<IConfiguration>()[$"{TlsOptions.Section}:{nameof(TlsOptions.CaCertificateFile)}"]));
        return checks.Add(new HealthCheckRegistration(
            name,
            services => new HttpDependencyHealthCheck(services.GetRequiredService<IHttpClientFactory>(), clientName, healthUrl(services)),
            failureStatus: null,
            tags: [DependencyTag],
            timeout: limit));
    }

    /// <summary>A folder the host depends on (a mounted volume, a key store) exists and can be listed.</summary>
    public static IHealthChecksBuilder AddFolderReadable(this IHealthChecksBuilder checks, string name, string folder) =>
        checks.Add(new HealthCheckRegistration(name, _ => new FolderHealthCheck(folder), failureStatus: null, tags: null, timeout: DefaultTimeout));

    /// <summary>An EF Core database answers (<see cref="Microsoft.EntityFrameworkCore.Infrastructure.DatabaseFacade.CanConnectAsync(CancellationToken)"/>).</summary>
    public static IHealthChecksBuilder AddDatabase<TContext>(this IHealthChecksBuilder checks, string name)
        where TContext : DbContext =>
        checks.AddDbContextCheck<TContext>(name);
}

/// <summary>GETs another host's health URL; healthy on a 2xx answer.</summary>
public sealed class HttpDependencyHealthCheck(IHttpClientFactory clients, string clientName, Uri healthUrl) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, healthUrl);
        request.Options.Set(CloudStoreTelemetry.HealthProbe, true);
        try
        {
            using var http = clients.CreateClient(clientName);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            var status = (int)response.StatusCode;
            return response.IsSuccessStatusCode
                ? HealthCheckResult.Healthy($"answered {status}")
                : new HealthCheckResult(context.Registration.FailureStatus, $"answered {status}");
        }
        catch (HttpRequestException e)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "unreachable", e);
        }
        catch (TaskCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "no answer in time", e);
        }
    }
}

/// <summary>A folder exists and can be listed.</summary>
public sealed class FolderHealthCheck(string folder) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!Directory.Exists(folder))
        {
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, "missing"));
        }

        try
        {
            using var entries = Directory.EnumerateFileSystemEntries(folder).GetEnumerator();
            entries.MoveNext();
            return Task.FromResult(HealthCheckResult.Healthy("readable"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Task.FromResult(new HealthCheckResult(context.Registration.FailureStatus, "not readable", e));
        }
    }
}
