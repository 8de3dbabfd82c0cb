using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CloudStore.Hosting;

/// <summary>A dependency did not answer; the request may succeed if retried. Answered with 503.</summary>
public class DependencyUnavailableException(string message, Exception? inner) : Exception(message, inner);

/// <summary>
/// Every error a host returns is an RFC 7807 problem document. Bad input that the framework itself
/// rejects (malformed JSON, a body over the size limit) keeps its 4xx status; any other exception is
/// a 500 with no detail beyond a trace id.
/// </summary>
public static class ProblemResponses
{
    public static IServiceCollection AddCloudStoreProblemDetails(this IServiceCollection services)
    {
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
