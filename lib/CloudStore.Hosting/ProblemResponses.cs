using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace CloudStore.Hosting;

/// <summary>A dependency did not answer; the request may succeed if retried. Answered with 503.</summary>
public class DependencyUnavailableException(string message, Exception? inner) : Exception(message, inner);

/// <summary>
/// Every error a host returns is an RFC 7807 problem document. Bad input that the framework itself
/// rejects keeps its 4xx status: a request it cannot bind (malformed JSON, a field missing or of the wrong
/// type, a query value that does not parse) is a validation problem naming each field and why
/// (<see cref="BindingProblems"/>), a body over the size limit a 413. Any other exception is a 500 with no
/// detail beyond a trace id.
/// </summary>
public static class ProblemResponses
{
    public static IServiceCollection AddCloudStoreProblemDetails(this IServiceCollection services)
    {
        // Binding failures as exceptions in every environment (the default is Development only), so that
        // BindingProblems can say which field failed; otherwise the framework answers a bare 400.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        services.AddExceptionHandler<BindingProblems>();
        return services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Extensions["traceId"] = context.HttpContext.TraceIdentifier;
        });
    }

    /// <summary>A dependency (storage, the key server) did not answer: 503, so clients retry.</summary>
    static bool IsUnavailable(Exception exception) => exception is DependencyUnavailableException or HttpRequestException;

    public static IApplicationBuilder UseCloudStoreProblemDetails(this IApplicationBuilder app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = exception => exception switch
            {
                BadHttpRequestException bad => bad.StatusCode,
                _ when IsUnavailable(exception) => StatusCodes.Status503ServiceUnavailable,
                _ => StatusCodes.Status500InternalServerError,
            },
        });
        app.UseStatusCodePages();
        return app;
    }
}
