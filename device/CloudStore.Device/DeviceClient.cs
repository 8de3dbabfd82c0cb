using System.Net.Http.Json;
using CloudStore.Contracts;

namespace CloudStore.Device;

/// <summary>Thrown when the control plane refuses a device request; carries the problem document's title.</summary>
public sealed class DeviceRequestRefusedException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}

/// <summary>Who the device is once enrolled: its id, and the audience its assertions name. Kept beside its key.</summary>
public sealed record DeviceIdentity(Guid DeviceId, Guid OrganizationId, string AssertionAudience)
{
    public static DeviceIdentity From(EnrolDeviceResponse enrolled) => new(enrolled.DeviceId, enrolled.OrganizationId, enrolled.AssertionAudience);
}

/// <summary>What the device says about itself when it signs in.</summary>
public sealed record DeviceClientOptions
{
    /// <summary>A version on which cloud storage may be enabled (AXIS OS 11.11.73 or later).</summary>
    public const string DefaultFirmwareVersion = "11.11.73";

    /// <summary>
    /// The firmware the device runs, reported in every token request's signed assertion; the control plane
    /// enables cameras and issues upload grants only for 11.11.73 or later.
    /// </summary>
    public string FirmwareVersion { get; init; } = DefaultFirmwareVersion;
}

/// <summary>
/// A device's conversation with the functions API: enrol once, then exchange a fresh signed
/// assertion for a short-lived access token whenever the last one is about to expire.
/// </summary>
/// <param name="http">A client whose BaseAddress is the API root, e.g. <c>https://host/api/</c>.</param>
public sealed class DeviceClient(HttpClient http, DeviceKey key, TimeProvider time, DeviceClientOptions? options = null) : IDisposable
{
    readonly DeviceClientOptions _options = options ?? new DeviceClientOptions();
    static readonly TimeSpan RenewBefore = TimeSpan.FromMinutes(1);
    readonly SemaphoreSlim _signingIn = new(1, 1);
    AccessToken? _token;

    public async Task<EnrolDeviceResponse> EnrolAsync(string enrolmentCode, string serial, CancellationToken cancellationToken)
    {
        using var response = await http.PostAsJsonAsync("devices/enrol", new EnrolDeviceRequest(enrolmentCode, serial, key.PublicKeyBase64), cancellationToken);
        return await ReadAsync<EnrolDeviceResponse>(response, cancellationToken);
    }

    /// <summary>A valid access token, renewed with a new assertion when less than a minute is left.</summary>
    /// <remarks>Shared by every camera of the device and both tasks of each: one sign-in at a time, the token replaced as a whole.</remarks>
    public async Task<string> AccessTokenAsync(Guid deviceId, string assertionAudience, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _token) is { } valid && time.GetUtcNow() < valid.RenewAt)
        {
            return valid.Value;
        }

        await _signingIn.WaitAsync(cancellationToken);
        try
        {
            if (Volatile.Read(ref _token) is { } renewed && time.GetUtcNow() < renewed.RenewAt)
            {
                return renewed.Value; // Another task signed in while this one waited.
            }

            var assertion = key.CreateAssertion(deviceId, assertionAudience, time.GetUtcNow(), _options.FirmwareVersion);
            using var response = await http.PostAsJsonAsync("devices/token", new DeviceTokenRequest(DeviceTokenRequest.JwtBearerAssertionType, assertion), cancellationToken);
            var token = await ReadAsync<TokenResponse>(response, cancellationToken);
            Volatile.Write(ref _token, new AccessToken(token.AccessToken, time.GetUtcNow() + TimeSpan.FromSeconds(token.ExpiresIn) - RenewBefore));
            return token.AccessToken;
        }
        finally
        {
            _signingIn.Release();
        }
    }

    /// <summary>Step C: an upload grant for one of this device's cameras.</summary>
    /// <param name="objectNames">The objects about to be created, for regions that grant per object (S3 presigned URLs).</param>
    public Task<CredentialsResponse> CredentialsAsync(DeviceIdentity identity, Guid cameraId, CancellationToken cancellationToken, IReadOnlyList<string>? objectNames = null) =>
        PostAuthorizedAsync<CredentialsResponse>(identity, "credentials", new CredentialsRequest(cameraId, objectNames), cancellationToken);

    /// <summary>Step E: index a batch of uploaded files.</summary>
    public Task<SegmentBatchResponse> IndexAsync(DeviceIdentity identity, SegmentBatch batch, CancellationToken cancellationToken) =>
        PostAuthorizedAsync<SegmentBatchResponse>(identity, "segments", batch, cancellationToken);

    async Task<T> PostAuthorizedAsync<T>(DeviceIdentity identity, string path, object body, CancellationToken cancellationToken)
    {
        var token = await AccessTokenAsync(identity.DeviceId, identity.AssertionAudience, cancellationToken);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = JsonContent.Create(body, body.GetType()) };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var response = await http.SendAsync(request, cancellationToken);
        return await ReadAsync<T>(response, cancellationToken);
    }

    static async Task<T> ReadAsync<T>(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!response.IsSuccessStatusCode)
        {
            ProblemBody? problem = null;
            if (response.Content.Headers.ContentType?.MediaType?.EndsWith("json", StringComparison.Ordinal) == true)
            {
                problem = await response.Content.ReadFromJsonAsync<ProblemBody>(cancellationToken);
            }

            var message = problem?.Detail is { } detail ? $"{problem.Title}: {detail}" : problem?.Title ?? response.ReasonPhrase ?? "refused";
            throw new DeviceRequestRefusedException((int)response.StatusCode, message);
        }

        return await response.Content.ReadFromJsonAsync<T>(cancellationToken) ?? throw new InvalidOperationException("Empty response.");
    }

    sealed record ProblemBody(string? Title, string? Detail);

    sealed record AccessToken(string Value, DateTimeOffset RenewAt);

    /// <summary>Releases the sign-in lock; the HTTP client and the key belong to the caller.</summary>
    public void Dispose() => _signingIn.Dispose();
}
