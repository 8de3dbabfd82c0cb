using System.Net;
using System.Net.Http.Headers;
using System.Security.Claims;
using CloudStore.Contracts;
using Microsoft.AspNetCore.Mvc;

namespace CloudStore.Player.Session;

/// <summary>What an API call gave: the value, or the problem (RFC 7807) the API answered with.</summary>
public sealed record ApiResult<T>(T? Value, int Status, string? Title, string? Detail)
{
    /// <summary>A sentence for the person at the screen.</summary>
    public string Message => Detail is { Length: > 0 } detail ? $"{Title}: {detail}" : Title ?? $"The service answered {Status}.";
}

/// <summary>
/// The functions API as the player's server uses it: the sign-in conversation, token refresh, and
/// reads with a person's access token. Every call goes over TLS to the configured API only.
/// </summary>
/// <summary>A successful answer without a body (204).</summary>
public sealed record Done
{
    public static readonly Done Value = new();
}

/// <summary>The front end's key (<see cref="PlayerOptions.FrontEndKeyFile"/>), read once at start; null when none is configured.</summary>
public sealed record FrontEndKey(string? Value);

/// <remarks>Sign-in steps name the browser they come from, with <paramref name="frontEnd"/>'s key.</remarks>
public sealed class FunctionsApi(HttpClient http, FrontEndKey frontEnd)
{
    public Task<ApiResult<SignInResponse>> SignInAsync(string email, string password, IPAddress? browser, CancellationToken cancellationToken) =>
        PostAsync<SignInResponse>("api/auth/sign-in", new SignInRequest(email, password), browser, cancellationToken);

    /// <summary>Single sign-on: the ID token from the organisation's provider, for CloudStore tokens.</summary>
    public Task<ApiResult<SignInResponse>> ExternalSignInAsync(string idToken, IPAddress? browser, CancellationToken cancellationToken) =>
        PostAsync<SignInResponse>("api/auth/external", new ExternalSignInRequest(idToken), browser, cancellationToken);

    public Task<ApiResult<SignInResponse>> SecondStepAsync(string challenge, string? code, string? recoveryCode, IPAddress? browser, CancellationToken cancellationToken) =>
        PostAsync<SignInResponse>("api/auth/two-factor", new TwoFactorRequest(challenge, code, recoveryCode), browser, cancellationToken);

    public Task<ApiResult<AuthenticatorSetupResponse>> BeginEnrolmentAsync(string challenge, IPAddress? browser, CancellationToken cancellationToken) =>
        PostAsync<AuthenticatorSetupResponse>("api/auth/authenticator/setup", new ChallengeRequest(challenge), browser, cancellationToken);

    public Task<ApiResult<SignInResponse>> ConfirmEnrolmentAsync(string challenge, string code, IPAddress? browser, CancellationToken cancellationToken) =>
        PostAsync<SignInResponse>("api/auth/authenticator/confirm", new AuthenticatorConfirmRequest(challenge, code), browser, cancellationToken);

    /// <summary>The invited person's chosen password, with the token from their invitation link.</summary>
    public Task<ApiResult<Done>> AcceptInvitationAsync(string token, string password, IPAddress? browser, CancellationToken cancellationToken) =>
        PostAsync<Done>("api/invitations/accept", new AcceptInvitationRequest(token, password), browser, cancellationToken);

    /// <summary>A new password, with the token from a reset link.</summary>
    public Task<ApiResult<Done>> CompletePasswordResetAsync(string token, string newPassword, IPAddress? browser, CancellationToken cancellationToken) =>
        PostAsync<Done>("api/password-reset", new CompletePasswordResetRequest(token, newPassword), browser, cancellationToken);

    public Task<ApiResult<TokenResponse>> RefreshAsync(string refreshToken, string audience, CancellationToken cancellationToken) =>
        PostAsync<TokenResponse>("api/auth/token", new RefreshRequest(refreshToken, audience), browser: null, cancellationToken);

    public async Task RevokeAsync(string refreshToken, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync("api/auth/revoke", new RevokeRequest(refreshToken), cancellationToken);
    }

    /// <summary>The organisation's cameras, read with the signed-in <paramref name="person"/>'s API token.</summary>
    public async Task<ApiResult<List<CameraOverviewResponse>>> CamerasAsync(PlayerSessions sessions, ClaimsPrincipal person, CancellationToken cancellationToken)
    {
        var token = await sessions.AccessTokenAsync(person.FindFirstValue(SessionCookie.SessionIdClaim), Audiences.Api, cancellationToken);
        return token is null
            ? new(null, StatusCodes.Status401Unauthorized, "Your session has ended", "Sign in again.")
            : await GetAsync<List<CameraOverviewResponse>>("api/cameras", token.AccessToken, cancellationToken);
    }

    /// <summary>Any call with the person's access token for the API (the administration pages' reads and changes).</summary>
    /// <remarks>The call names <paramref name="browser"/> (with the front end's key), so the audit log records the person's address.</remarks>
    public async Task<ApiResult<T>> SendAsync<T>(HttpMethod method, string path, object? body, string accessToken, IPAddress? browser, CancellationToken cancellationToken)
        where T : class
    {
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        NameBrowser(request, browser);
        using var response = await http.SendAsync(request, cancellationToken);
        return await ReadAsync<T>(response, cancellationToken);
    }

    /// <summary>A GET with the person's access token for the API.</summary>
    public async Task<ApiResult<T>> GetAsync<T>(string path, string accessToken, CancellationToken cancellationToken)
        where T : class
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        using var response = await http.SendAsync(request, cancellationToken);
        return await ReadAsync<T>(response, cancellationToken);
    }

    async Task<ApiResult<T>> PostAsync<T>(string path, object body, IPAddress? browser, CancellationToken cancellationToken)
        where T : class
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body) };
        NameBrowser(request, browser);

        using var response = await http.SendAsync(request, cancellationToken);
        return await ReadAsync<T>(response, cancellationToken);
    }

    void NameBrowser(HttpRequestMessage request, IPAddress? browser)
    {
        if (browser is not null && frontEnd.Value is { } key)
        {
            request.Headers.Add(FrontEnd.KeyHeader, key);
            request.Headers.Add(FrontEnd.ClientAddressHeader, browser.ToString());
        }
    }

    static async Task<ApiResult<T>> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
        where T : class
    {
        var status = (int)response.StatusCode;
        if (response.IsSuccessStatusCode)
        {
            var value = response.StatusCode == HttpStatusCode.NoContent ? Done.Value as T : await response.Content.ReadFromJsonAsync<T>(cancellationToken);
            return new ApiResult<T>(value, status, null, null);
        }

        if (response.Content.Headers.ContentType?.MediaType == "application/problem+json")
        {
            var problem = await response.Content.ReadFromJsonAsync<ValidationProblemDetails>(cancellationToken);
            var detail = problem?.Errors.Count > 0 ? string.Join(" ", problem.Errors.SelectMany(e => e.Value)) : problem?.Detail;
            return new ApiResult<T>(null, status, problem?.Title, detail);
        }

        return new ApiResult<T>(null, status, $"The service answered {status} {response.ReasonPhrase}", null);
    }
}
