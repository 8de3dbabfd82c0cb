using System.Collections.Concurrent;
using System.Net.Http.Headers;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Auth;

namespace CloudStore.ControlPlane.Credentials;

/// <summary>The <c>KeyServer</c> section: where the key server is.</summary>
public sealed class KeyServerOptions
{
    public const string Section = "KeyServer";

    public string Url { get; set; } = "";
}

/// <summary>
/// Calls the key server with the control plane's own service token: organisations' public keys (cached for a few
/// minutes: a rotation reaches new grants within that time) and the destruction of a deleted organisation's keys.
/// </summary>
public sealed partial class KeyServerClient(HttpClient http, AccessTokens tokens, TimeProvider time, ILogger<KeyServerClient> logger)
{
    static readonly TimeSpan CacheFor = TimeSpan.FromMinutes(5);
    static readonly ConcurrentDictionary<(Guid, string), (PublicKeyResponse Key, DateTimeOffset Until)> Cache = new();

    public async Task<PublicKeyResponse> PublicKeyAsync(Guid organizationId, string region, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (Cache.TryGetValue((organizationId, region), out var cached) && cached.Until > now)
        {
            return cached.Key;
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, $"v1/organizations/{organizationId}/regions/{region}/public-key");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.ForService().AccessToken);
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        var key = await response.Content.ReadFromJsonAsync<PublicKeyResponse>(cancellationToken)
            ?? throw new InvalidOperationException("The key server answered with no key.");
        Cache[(organizationId, region)] = (key, now + CacheFor);
        return key;
    }

    /// <summary>
    /// Crypto-shredding: asks the key server to destroy every version of the organisation's key in the region. Idempotent
    /// on the key server (a region where it never had a key answers the same, and gets no key again).
    /// </summary>
    /// <returns>True when the key server confirmed it; false when it could not be reached or refused (logged; to be retried).</returns>
    public async Task<bool> DestroyKeysAsync(Guid organizationId, string region, CancellationToken cancellationToken)
    {
        if (http.BaseAddress is null)
        {
            LogDestroyFailed(logger, organizationId, region, "no KeyServer:Url configured");
            return false;
        }

        Cache.TryRemove((organizationId, region), out _);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Delete, $"v1/organizations/{organizationId}/regions/{region}/keys");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.ForService().AccessToken);
            using var response = await http.SendAsync(request, cancellationToken);
            if (response.StatusCode == System.Net.HttpStatusCode.NoContent)
            {
                return true;
            }

            LogDestroyFailed(logger, organizationId, region, $"status {(int)response.StatusCode}");
            return false;
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            LogDestroyFailed(logger, organizationId, region, e.GetType().Name);
            return false;
        }
    }

    [LoggerMessage(EventId = 3205, Level = LogLevel.Warning, Message = "Key server: destroying the keys of organisation {OrganizationId} in {Region} failed ({Reason}); retried by the next sweep")]
    static partial void LogDestroyFailed(ILogger logger, Guid organizationId, string region, string reason);
}
