using System.Security.Claims;
using CloudStore.Contracts;
using CloudStore.Player.Session;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;

namespace CloudStore.Player.Components.Pages.Admin;

/// <summary>
/// What every administration page shares: calls to the functions API with the signed-in person's token, and one line
/// of outcome to show (done, or the API's problem in words). Pages render on the server (static rendering) and change
/// things with plain form posts, each carrying an antiforgery token; the API checks the role again on every call.
/// </summary>
[Authorize(Roles = Roles.Administrator)]
public abstract class AdminPage : ComponentBase
{
    [CascadingParameter]
    public HttpContext HttpContext { get; set; } = null!;

    [Inject]
    protected FunctionsApi Api { get; set; } = null!;

    [Inject]
    protected PlayerSessions Sessions { get; set; } = null!;

    [Inject]
    protected TimeProvider Time { get; set; } = null!;

    /// <summary>What the last change did, for the person at the screen.</summary>
    protected string? Notice { get; set; }

    /// <summary>Why the last read or change failed.</summary>
    protected string? Error { get; set; }

    protected Task<ApiResult<T>> GetAsync<T>(string path)
        where T : class => CallAsync<T>(HttpMethod.Get, path, null);

    /// <summary>A change; on success <paramref name="done"/> is shown, on failure the API's problem.</summary>
    protected async Task<T?> ChangeAsync<T>(HttpMethod method, string path, object? body, string done)
        where T : class
    {
        var result = await CallAsync<T>(method, path, body);
        Notice = result.Value is null ? null : done;
        Error = result.Value is null ? result.Message : null;
        return result.Value;
    }

    protected Task<Session.Done?> ChangeAsync(HttpMethod method, string path, object? body, string done) =>
        ChangeAsync<Session.Done>(method, path, body, done);

    async Task<ApiResult<T>> CallAsync<T>(HttpMethod method, string path, object? body)
        where T : class
    {
        var token = await Sessions.AccessTokenAsync(HttpContext.User.FindFirstValue(SessionCookie.SessionIdClaim), Audiences.Api, HttpContext.RequestAborted);
        return token is null
            ? new ApiResult<T>(null, StatusCodes.Status401Unauthorized, "Your session has ended", "Sign in again.")
            : await Api.SendAsync<T>(method, path, body, token.AccessToken, HttpContext.Connection.RemoteIpAddress, HttpContext.RequestAborted);
    }

    protected static string When(DateTimeOffset time) => time.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture);
}
