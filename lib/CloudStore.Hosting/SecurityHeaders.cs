using Microsoft.AspNetCore.Builder;

namespace CloudStore.Hosting;

/// <summary>The response headers from REQUIREMENTS.md, sent by every host on every response.</summary>
public static class SecurityHeaders
{
    /// <summary>The content security policy for hosts that serve no pages: nothing may load.</summary>
    public const string ApiContentSecurityPolicy =
        "default-src 'self'; object-src 'none'; frame-ancestors 'self'; media-src 'self' blob:; base-uri 'none'; form-action 'self'";

    /// <param name="contentSecurityPolicy">The host's CSP; pages with scripts pass their own.</param>
    /// <param name="noStore">Whether every response is sensitive (APIs with tokens and keys): <c>Cache-Control: no-store</c>.</param>
    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app, string contentSecurityPolicy, bool noStore)
    {
        return app.Use((context, next) =>
        {
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers["X-Frame-Options"] = "SAMEORIGIN";
                headers["X-Content-Type-Options"] = "nosniff";
                headers["Referrer-Policy"] = "strict-origin-when-cross-origin";
                headers["Content-Security-Policy"] = contentSecurityPolicy;
                headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains";
                headers["Cross-Origin-Opener-Policy"] = "same-origin";
                if (noStore)
                {
                    headers.CacheControl = "no-store";
                }

                return Task.CompletedTask;
            });
            return next(context);
        });
    }
}
