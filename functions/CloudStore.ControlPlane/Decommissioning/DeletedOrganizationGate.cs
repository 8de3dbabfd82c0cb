using System.Security.Claims;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Platform;

namespace CloudStore.ControlPlane.Decommissioning;

/// <summary>
/// Access tokens are not looked up per request (they live minutes), but an organisation's deletion must stop them at
/// once: after authentication, a request whose token names an organisation that is deleted (or gone) is refused with
/// 401, whatever the endpoint and whichever issuer (CloudStore or single sign-on) signed the token. One indexed
/// look-up per authenticated request, through the request's <see cref="CallerContext"/>, which keeps the row's home region
/// for the endpoint (so a request reads its organisation once).
/// </summary>
public static class DeletedOrganizationGate
{
    public static IApplicationBuilder UseDeletedOrganizationGate(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        if (context.User.Identity?.IsAuthenticated == true
            && Guid.TryParse(context.User.FindFirstValue(ClaimNames.Organization), out var organizationId)
            && await context.RequestServices.GetRequiredService<CallerContext>().OrganizationAsync(organizationId, context.RequestAborted) is not { Live: true })
        {
            context.Response.Headers.WWWAuthenticate = "Bearer error=\"invalid_token\"";
            await TypedResults.Problem(title: "Organisation deleted", detail: "The organisation this token belongs to has been deleted.",
                statusCode: StatusCodes.Status401Unauthorized).ExecuteAsync(context);
            return;
        }

        await next(context);
    });
}
