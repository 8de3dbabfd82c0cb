using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace CloudStore.Hosting;

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

    public static IApplicationBuilder UseCloudStoreProblemDetails(this IApplicationBuilder app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            StatusCodeSelector = exception => exception is BadHttpRequestException bad ? bad.StatusCode : StatusCodes.Status500InternalServerError,
        });
        app.UseStatusCodePages();
        return app;
    }
}
