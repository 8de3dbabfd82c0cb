using System.Net.Http.Json;
using CloudStore.Contracts;

namespace CloudStore.Device;

/// <summary>Thrown when the control plane refuses a device request; carries the problem document's title.</summary>
public sealed class DeviceRequestRefusedException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>
/// A device's conversation with the functions API: enrol once, then exchange a fresh signed
/// assertion for a short-lived access token whenever the last one is about to expire.
/// </summary>
/// <param name="http">A client whose BaseAddress is the API root, e.g. <c>https://host/api/</c>.</param>
public sealed class DeviceClient(HttpClient http, DeviceKey key, TimeProvider time)
{
    static readonly TimeSpan RenewBefore = TimeSpan.FromMinutes(1);
    TokenResponse? _token;
    DateTimeOffset _tokenExpires;

    public async Task<EnrolDeviceResponse> EnrolAsync(string enrolmentCode, string serial, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync("devices/enrol", new EnrolDeviceRequest(enrolmentCode, serial, key.PublicKeyBase64), cancellationToken);
        return await ReadAsync<EnrolDeviceResponse>(response, cancellationToken);
    }

    /// <summary>A valid access token, renewed with a new assertion when less than a minute is left.</summary>
    public async Task<string> AccessTokenAsync(Guid deviceId, string assertionAudience, CancellationToken cancellationToken)
    {
        if (_token is null || time.GetUtcNow() >= _tokenExpires - RenewBefore)
        {
            var assertion = key.CreateAssertion(deviceId, assertionAudience, time.GetUtcNow());
            using var response = await http.PostAsJsonAsync("devices/token", new DeviceTokenRequest(DeviceTokenRequest.JwtBearerAssertionType, assertion), cancellationToken);
            _token = await ReadAsync<TokenResponse>(response, cancellationToken);
            _tokenExpires = time.GetUtcNow() + TimeSpan.FromSeconds(_token.ExpiresIn);
        }

        return _token.AccessToken;
    }

    static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            var problem = await response.Content.ReadFromJsonAsync<ProblemBody>(cancellationToken);
            throw new DeviceRequestRefusedException((int)response.StatusCode, problem?.Title ?? response.ReasonPhrase ?? "refused");
        }

        return await response.Content.ReadFromJsonAsync<T>(cancellationToken) ?? throw new InvalidOperationException("Empty response.");
    }

    sealed record ProblemBody(string? Title, string? Detail);
}
