using System.Net.Http.Headers;
using System.Net.Http.Json;
using CloudStore.Contracts;
using CloudStore.Device;

namespace CloudStore.LocalStack;

/// <summary>
/// What an administrator and a camera installer do on the demo's first run, through the same HTTPS
/// API everyone uses: sign in and enrol an authenticator, choose the region, create a device, enrol it with
/// its own key (its first sign-in reports its firmware), and add two cameras and enable them.
/// </summary>
public static class DemoSetup
{
    public const string Region = Regions.EuFrankfurt;

    /// <summary>Signs in with the password and enrols a new authenticator; returns its secret and an API client with the token.</summary>
    public static async Task<(string AuthenticatorKey, string OtpAuthUri)> EnrolAdministratorAsync(HttpClient api, string email, string password, CancellationToken cancellationToken)
    {
        var signIn = await PostAsync<SignInResponse>(api, "api/auth/sign-in", new SignInRequest(email, password), cancellationToken);
        var setup = await PostAsync<AuthenticatorSetupResponse>(api, "api/auth/authenticator/setup", new ChallengeRequest(signIn.Challenge!), cancellationToken);
        var signedIn = await PostAsync<SignInResponse>(api, "api/auth/authenticator/confirm",
            new AuthenticatorConfirmRequest(signIn.Challenge, Totp.Code(setup.SharedKey, TimeProvider.System.GetUtcNow())), cancellationToken);
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", signedIn.Tokens!.AccessToken);
        return (setup.SharedKey, setup.OtpAuthUri);
    }

    /// <summary>
    /// Region and device; the device enrols with its own key and signs in once, which reports its firmware;
    /// then two cameras, enabled (enabling checks the firmware the device reported). Returns the camera ids.
    /// </summary>
    public static async Task<IReadOnlyList<Guid>> AddCamerasAsync(HttpClient administrator, DeviceClient device, string identityFile, CancellationToken cancellationToken)
    {
        (await administrator.PutAsJsonAsync("api/organization/region", new OrganizationRegionRequest(Region), cancellationToken)).EnsureSuccessStatusCode();
        const string serial = "ACCC8EDEMO01";
        var created = await PostAsync<EnrolmentCodeResponse>(administrator, "api/devices", new CreateDeviceRequest(serial, "AXIS P3268-LVE (simulated)"), cancellationToken);
        var enrolled = await device.EnrolAsync(created.EnrolmentCode, serial, cancellationToken);
        await File.WriteAllTextAsync(identityFile, System.Text.Json.JsonSerializer.Serialize(DeviceIdentity.From(enrolled)), cancellationToken);
        await device.AccessTokenAsync(enrolled.DeviceId, enrolled.AssertionAudience, cancellationToken);
        var cameras = new List<Guid>();
        foreach (var (name, channel) in new[] { ("Entrance", 1), ("Loading bay", 2) })
        {
            var camera = await PostAsync<CameraResponse>(administrator, $"api/devices/{created.DeviceId}/cameras", new CreateCameraRequest(name, channel), cancellationToken);
            (await administrator.PostAsync(new Uri($"api/cameras/{camera.Id}/enable", UriKind.Relative), null, cancellationToken)).EnsureSuccessStatusCode();
            cameras.Add(camera.Id);
        }

        return cameras;
    }

    static async Task<T> PostAsync<T>(HttpClient client, string path, object body, CancellationToken cancellationToken)
    {
        using var response = await client.PostAsJsonAsync(path, body, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        return (await response.Content.ReadFromJsonAsync<T>(cancellationToken))!;
    }
}
