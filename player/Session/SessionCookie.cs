using System.Security.Claims;
using CloudStore.Contracts;
using CloudStore.Hosting;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;

namespace CloudStore.Player.Session;

/// <summary>
/// The browser's side of a session: an HttpOnly, Secure, SameSite=Strict cookie sealed with data
/// protection, carrying the session id, the person's email and role, and nothing that opens anything
/// by itself. Plus the two endpoints the page scripts and the sign-out button use.
/// </summary>
public static class SessionCookie
{
    public const string Name = "__Host-cloudstore-session";

    public const string SessionIdClaim = "sid";

    public static IServiceCollection AddPlayerSessions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddScoped<PlayerSessions>();
        services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme)
            .AddSingleSignOn(configuration, configuration[$"{TlsOptions.Section}:{nameof(TlsOptions.CaCertificateFile)}"])
            .AddCookie(cookie =>
            {
                cookie.Cookie.Name = Name;
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.Always;
                cookie.Cookie.SameSite = SameSiteMode.Strict;
                cookie.Cookie.Path = "/";
                cookie.LoginPath = "/sign-in";
                cookie.AccessDeniedPath = "/sign-in";
                cookie.SlidingExpiration = true;
                cookie.Events.OnValidatePrincipal = async context =>
                {
                    // A session ended (sign-out on any instance, idle, revoked at the API) ends the cookie too.
                    var sessions = context.HttpContext.RequestServices.GetRequiredService<PlayerSessions>();
                    if (!await sessions.IsActiveAsync(context.Principal?.FindFirstValue(SessionIdClaim), context.HttpContext.RequestAborted))
                    {
                        context.RejectPrincipal();
                        await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
                    }
                };
                // The sign-in page decides where to go once signed in (it may first show recovery codes).
                cookie.Events.OnRedirectToReturnUrl = _ => Task.CompletedTask;
                cookie.Events.OnRedirectToLogin = context =>
                {
                    // Scripts asking for a token get a status they can act on, pages get the sign-in page.
                    if (context.Request.Path.StartsWithSegments("/session"))
                    {
                        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                        return Task.CompletedTask;
                    }

                    context.Response.Redirect(context.RedirectUri);
                    return Task.CompletedTask;
                };
            });
        services.AddOptions<CookieAuthenticationOptions>(CookieAuthenticationDefaults.AuthenticationScheme)
            .Configure<IOptions<PlayerOptions>>((cookie, player) => cookie.ExpireTimeSpan = player.Value.SessionIdleTimeout);
        services.AddAuthorization();
        services.AddCascadingAuthenticationState();
        return services;
    }

    /// <summary>Signs the person in to the player after the API's sign-in gave <paramref name="tokens"/>.</summary>
    /// <returns>Null when signed in, else what went wrong.</returns>
    public static async Task<string?> SignInAsync(HttpContext context, TokenResponse tokens, FunctionsApi api, PlayerSessions sessions, CancellationToken cancellationToken)
    {
        var me = await api.GetAsync<UserResponse>("api/me", tokens.AccessToken, cancellationToken);
        if (me.Value is not { } user)
        {
            return me.Message;
        }

        var sessionId = await sessions.StartAsync(tokens, cancellationToken);
        var identity = new ClaimsIdentity(
            [
                new Claim(SessionIdClaim, sessionId),
                new Claim(ClaimTypes.Name, user.Email),
                new Claim(ClaimTypes.Role, user.Role),
            ],
            CookieAuthenticationDefaults.AuthenticationScheme);
        await context.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
        return null;
    }

    public static IEndpointRouteBuilder MapSessionEndpoints(this IEndpointRouteBuilder app)
    {
        // The page scripts' only source of tokens: short-lived, one audience each, never stored by the player's pages.
        app.MapGet("/session/token", async Task<IResult> (string? audience, HttpContext context, PlayerSessions sessions, CancellationToken cancellationToken) =>
        {
            if (audience is null || !Audiences.IsKnown(audience))
            {
                return TypedResults.Problem(
                    title: "Unknown audience", detail: $"Ask for {Audiences.Api} or {Audiences.KeyServer}.", statusCode: StatusCodes.Status400BadRequest);
            }

            var token = await sessions.AccessTokenAsync(context.User.FindFirstValue(SessionIdClaim), audience, cancellationToken);
            if (token is null)
            {
                await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
                return TypedResults.Problem(title: "Signed out", detail: "The session has ended; sign in again.", statusCode: StatusCodes.Status401Unauthorized);
            }

            context.Response.Headers.CacheControl = "no-store";
            return TypedResults.Json(new { access_token = token.AccessToken, expires_at = token.ExpiresAt });
        }).RequireAuthorization();

        app.MapPost("/sign-out", async Task<IResult> (HttpContext context, IAntiforgery antiforgery, PlayerSessions sessions, CancellationToken cancellationToken) =>
        {
            if (!await antiforgery.IsRequestValidAsync(context))
            {
                return TypedResults.Problem(title: "Form expired", detail: "Reload the page and sign out again.", statusCode: StatusCodes.Status400BadRequest);
            }

            if (context.User.FindFirstValue(SessionIdClaim) is { } sessionId)
            {
                await sessions.EndAsync(sessionId, cancellationToken);
            }

            await context.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            return TypedResults.Redirect("/sign-in?signedOut=1");
        }).DisableAntiforgery();

        // Single sign-on starts here: the button on the sign-in page is a link, the provider's page comes next.
        app.MapGet("/sign-in/sso/{index:int}", (int index, IOptions<PlayerOptions> options) =>
            index >= 0 && index < options.Value.IdentityProviders.Count
                ? Results.Challenge(new AuthenticationProperties { RedirectUri = "/" }, [SingleSignOn.Scheme(index)])
                : Results.NotFound());
        return app;
    }
}
