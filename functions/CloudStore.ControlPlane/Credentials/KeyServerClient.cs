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
/// Fetches organisations' public keys from the key server with the control plane's own service
/// token. Public keys are cached for a few minutes: a rotation reaches new grants within that time.
/// </summary>
public sealed class KeyServerClient(HttpClient http, AccessTokens tokens, TimeProvider time)
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
}
