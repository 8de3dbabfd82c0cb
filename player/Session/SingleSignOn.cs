using System.Net;
using CloudStore.Contracts;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;

namespace CloudStore.Player.Session;

/// <summary>
/// "Sign in with your organisation's identity provider": one OpenID Connect scheme per configured provider
/// (<see cref="PlayerOptions.IdentityProviders"/>), authorization code with PKCE. When the provider sends the person
/// back, the player hands the ID token to the functions API (<c>POST /api/auth/external</c>), which checks it, maps the
/// person to a user of the provider's organisation and answers with CloudStore tokens; from there the session is like
/// any other. The provider's own tokens are not kept.
/// </summary>
public static class SingleSignOn
{
    /// <summary>What the player asks the provider for: who the person is, their address and their roles.</summary>
    static readonly string[] Scopes = ["openid", "email", "roles"];

    public static string Scheme(int index) => $"sso-{index}";

    public static AuthenticationBuilder AddSingleSignOn(this AuthenticationBuilder authentication, IConfiguration configuration, string? caCertificateFile)
    {
        var providers = configuration.GetSection(PlayerOptions.Section).Get<PlayerOptions>()?.IdentityProviders ?? [];
        for (var i = 0; i < providers.Count; i++)
        {
            var provider = providers[i];
            var scheme = Scheme(i); // not i itself in the lambda: options are configured later, when the loop is over
            authentication.AddOpenIdConnect(scheme, provider.Name, oidc =>
            {
                oidc.Authority = provider.Authority;
                oidc.ClientId = provider.ClientId;
                oidc.ResponseType = OpenIdConnectResponseType.Code;
                oidc.UsePkce = true;
                oidc.RequireHttpsMetadata = true;
                oidc.CallbackPath = $"/signin-{scheme}";
                oidc.Scope.Clear();
                foreach (var scope in Scopes)
                {
                    oidc.Scope.Add(scope);
                }

                oidc.SaveTokens = false;
                oidc.GetClaimsFromUserInfoEndpoint = false;
                oidc.MapInboundClaims = false;
                oidc.BackchannelHttpHandler = TrustedHttp.CreateHandler(caCertificateFile);
                oidc.Events.OnTokenValidated = ExchangeAsync;
                oidc.Events.OnRemoteFailure = context =>
                {
                    context.HandleResponse();
                    context.Response.Redirect("/sign-in?sso=failed");
                    return Task.CompletedTask;
                };
            });
        }

        return authentication;
    }

    /// <summary>
    /// The provider's ID token (checked by the handler: signature, issuer, audience, nonce) goes to the API, which
    /// decides who the person is in CloudStore. The answer is a page that moves on by itself rather than a redirect: the
    /// session cookie is SameSite=Strict, and a browser does not send it on a redirect chain that began at the
    /// provider's site.
    /// </summary>
    static async Task ExchangeAsync(TokenValidatedContext context)
    {
        context.HandleResponse();
        var http = context.HttpContext;
        var idToken = context.TokenEndpointResponse?.IdToken ?? context.ProtocolMessage.IdToken;
        var api = http.RequestServices.GetRequiredService<FunctionsApi>();
        var sessions = http.RequestServices.GetRequiredService<PlayerSessions>();
        var signedIn = await api.ExternalSignInAsync(idToken, http.Connection.RemoteIpAddress, http.RequestAborted);
        var problem = signedIn.Value?.Tokens is { } tokens
            ? await SessionCookie.SignInAsync(http, tokens, api, sessions, http.RequestAborted)
            : signedIn.Message;
        if (problem is not null)
        {
            http.Response.Redirect("/sign-in?sso=refused");
            return;
        }

        await WriteContinuePageAsync(http.Response, "/");
    }

    static async Task WriteContinuePageAsync(HttpResponse response, string next)
    {
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = "text/html; charset=utf-8";
        response.Headers.CacheControl = "no-store";
        var target = WebUtility.HtmlEncode(next);
        await response.WriteAsync(
            $"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="0;url={target}"><title>Signed in · CloudStore</title></head>
            <body><p>Signed in. <a href="{target}">Continue</a></p></body></html>
            """);
    }
}
