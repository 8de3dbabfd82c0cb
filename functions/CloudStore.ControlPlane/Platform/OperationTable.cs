using System.Collections.Frozen;
using CloudStore.ControlPlane.Data;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing.Patterns;

namespace CloudStore.ControlPlane.Platform;

/// <summary>
/// The control plane's operations, built once from <see cref="ControlPlane.MapControlPlane"/> for a front
/// door that does its own routing: the Azure Functions worker routes a request to a <c>[Function]</c>, which
/// hands it here by name. The request then runs through the same middleware
/// (<see cref="ControlPlane.UseControlPlane"/>) and the same minimal-API handler as in the local host,
/// with the same binding, validation, authorisation policy and results.
/// </summary>
public sealed class OperationTable
{
    readonly FrozenDictionary<string, RouteEndpoint> _operations;
    readonly RequestDelegate _pipeline;

    public OperationTable(IServiceProvider services)
    {
        var routes = new DetachedRouteBuilder(services);
        routes.MapControlPlane();
        _operations = routes.DataSources.SelectMany(source => source.Endpoints).OfType<RouteEndpoint>()
            .ToFrozenDictionary(endpoint => endpoint.Metadata.GetRequiredMetadata<IEndpointNameMetadata>().EndpointName, StringComparer.Ordinal);

        var pipeline = new ApplicationBuilder(services);
        pipeline.UseControlPlane();
        pipeline.Run(context => context.GetEndpoint()?.RequestDelegate?.Invoke(context) ?? Task.CompletedTask);
        _pipeline = pipeline.Build();
    }

    public IReadOnlyCollection<RouteEndpoint> Operations => _operations.Values;

    /// <summary>Runs the named operation on a request whose route values the caller's router has set.</summary>
    public Task InvokeAsync(string operation, HttpContext context)
    {
        if (!_operations.TryGetValue(operation, out var endpoint))
        {
            throw new InvalidOperationException($"No control-plane operation is named '{operation}'.");
        }

        context.SetEndpoint(endpoint);
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
        {
            // What ASP.NET Core's routing applies from the endpoint (and the local host's Kestrel by default):
            // the worker's own server would otherwise take bodies of up to 30 MB.
            bodyLimit.MaxRequestBodySize = endpoint.Metadata.GetMetadata<IRequestSizeLimitMetadata>()?.MaxRequestBodySize ?? Limits.MaxRequestBodyBytes;
        }

        return _pipeline(context);
    }

    /// <summary>The result a function returns: running the named operation writes the response.</summary>
    public IResult Result(string operation) => new OperationResult(this, operation);

    /// <summary>The route of an operation as a function declares it: without the <c>/api/</c> prefix the Functions host adds.</summary>
    public static string FunctionRoute(RoutePattern pattern) =>
        (pattern.RawText ?? string.Empty).TrimStart('/') is var route && route.StartsWith("api/", StringComparison.Ordinal) ? route["api/".Length..].TrimEnd('/') : route;

    sealed class OperationResult(OperationTable table, string operation) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => table.InvokeAsync(operation, httpContext);
    }

    /// <summary>A route builder that belongs to no application: it only collects endpoints.</summary>
    sealed class DetachedRouteBuilder(IServiceProvider services) : IEndpointRouteBuilder
    {
        public IServiceProvider ServiceProvider => services;

        public ICollection<EndpointDataSource> DataSources { get; } = [];

        public IApplicationBuilder CreateApplicationBuilder() => new ApplicationBuilder(services);
    }
}
