using System.Net;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Auth;
using Microsoft.Extensions.Options;

namespace CloudStore.ControlPlane.Platform;

/// <summary>
/// Takes the client address a trusted front end (the web player's server) forwards, when the request
/// carries that front end's key (<c>Auth:FrontEndKeyFile</c>); otherwise the forwarded address is
/// ignored. The per-client sign-in limiter and the audit log then see the person's browser, not the
/// player, so one attacker cannot block everyone who signs in through the player.
/// </summary>
public static class FrontEndClientAddress
{
    public static IApplicationBuilder UseFrontEndClientAddress(this IApplicationBuilder app)
    {
        var file = app.ApplicationServices.GetRequiredService<IOptions<AuthOptions>>().Value.FrontEndKeyFile;
        if (string.IsNullOrEmpty(file))
        {
            return app;
        }

        var key = FrontEnd.ReadKey(file);
        return app.Use((context, next) =>
        {
            var headers = context.Request.Headers;
            if (headers.TryGetValue(FrontEnd.ClientAddressHeader, out var forwarded)
                && FrontEnd.Matches(headers[FrontEnd.KeyHeader].ToString(), key)
                && IPAddress.TryParse(forwarded.ToString(), out var client))
            {
                context.Connection.RemoteIpAddress = client;
            }

            return next(context);
        });
    }
}
