using System.Net.Http.Headers;
using System.Net.Http.Json;
using CloudStore.Contracts;
using CloudStore.Device;
using CloudStore.LocalStack;
using Xunit;

namespace CloudStore.Tests.Infrastructure;

/// <summary>
/// An organisation on the real stack, set up as people and cameras do it over HTTPS: provisioned by
/// operations, its administrator signed in with two-step verification, its home region chosen, a device
/// created and enrolled by the device itself, with one enabled camera.
/// </summary>
public sealed class StackTenant : IDisposable
{
    StackTenant(LocalCloud cloud, HttpClient administrator, TestUser administratorUser, Guid organizationId)
    {
        Cloud = cloud;
        Administrator = administrator;
        AdministratorUser = administratorUser;
        OrganizationId = organizationId;
    }

    public LocalCloud Cloud { get; }

    /// <summary>A client of the functions API carrying the administrator's access token.</summary>
    public HttpClient Administrator { get; }

    /// <summary>The administrator as a person: email, password and the authenticator key their phone holds.</summary>
    public TestUser AdministratorUser { get; }

    public Guid OrganizationId { get; }

    /// <param name="chosenId">A chosen id (one that single sign-on settings already name), or null for a new one.</param>
    public static async Task<StackTenant> CreateAsync(LocalCloud cloud, string? region, Guid? chosenId = null)
    {
        var password = TestTenant.NewPassword();
        var passwordFile = Path.Combine(cloud.Options.StateFolder, "pw-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(passwordFile, password);
        var email = $"admin-{Guid.NewGuid():N}@stack.test";
        string[] provision = ["provision", "--name", "Stack test", "--admin-email", email, "--admin-password-file", passwordFile];
        var output = await Demo.RunFunctionsCommandAsync(cloud, chosenId is { } id ? [.. provision, "--id", id.ToString()] : provision, CancellationToken.None);
        File.Delete(passwordFile);
        var organizationId = System.Text.Json.JsonDocument.Parse(output).RootElement.GetProperty("organizationId").GetGuid();
        await Demo.RunFunctionsCommandAsync(cloud, ["licences", "--organization", organizationId.ToString(), "--count", "10"], CancellationToken.None);
        var administrator = new HttpClient(TrustedHttp.CreateHandler(cloud.Certificates.CaCertificate)) { BaseAddress = cloud.FunctionsUrl };
        var user = new TestUser(Guid.Empty, email, password, Roles.Administrator);
        var tokens = await SignInFlow.SignInAsync(administrator, user, TimeProvider.System);
        administrator.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        if (region is not null)
        {
            using var chosen = await administrator.PutAsJsonAsync("/api/organization/region", new OrganizationRegionRequest(region));
            Assert.True(chosen.IsSuccessStatusCode, await chosen.Content.ReadAsStringAsync());
        }

        return new StackTenant(cloud, administrator, user, organizationId);
    }

    /// <summary>
    /// A person invited by the administrator who accepted through the mailed link (read from the stack's maildev) and
    /// chose a password; not signed in yet, so their first sign-in enrols the authenticator.
    /// </summary>
    public async Task<TestUser> AddUserAsync(string role)
    {
        var user = new TestUser(Guid.Empty, $"{role}-{Guid.NewGuid():N}@stack.test", TestTenant.NewPassword(), role);
        using (var invited = await Administrator.PostAsJsonAsync("/api/users", new CreateUserRequest(user.Email, role)))
        {
            Assert.True(invited.IsSuccessStatusCode, await invited.Content.ReadAsStringAsync());
        }

        using var inbox = MailInbox.ForStack(Cloud);
        using var api = new HttpClient(TrustedHttp.CreateHandler(Cloud.Certificates.CaCertificate)) { BaseAddress = Cloud.FunctionsUrl };
        using var accepted = await api.PostAsJsonAsync("/api/invitations/accept", new AcceptInvitationRequest((await inbox.WaitForAsync(user.Email)).LinkToken, user.Password));
        Assert.True(accepted.IsSuccessStatusCode, await accepted.Content.ReadAsStringAsync());
        return user;
    }

    /// <summary>
    /// A device with one camera, enrolled with its own key and signed in once (which reports its firmware);
    /// the camera enabled unless asked otherwise.
    /// </summary>
    public async Task<StackCamera> AddCameraAsync(bool enable = true)
    {
        var serial = "CAM" + Guid.NewGuid().ToString("N")[..9].ToUpperInvariant();
        using var created = await Administrator.PostAsJsonAsync("/api/devices", new CreateDeviceRequest(serial, "AXIS M3086-V"));
        var code = await created.Content.ReadFromJsonAsync<EnrolmentCodeResponse>();
        var key = DeviceKey.Create();
        var http = new HttpClient(TrustedHttp.CreateHandler(Cloud.Certificates.CaCertificate)) { BaseAddress = new Uri(Cloud.FunctionsUrl, "/api/") };
        var client = new DeviceClient(http, key, TimeProvider.System);
        var identity = DeviceIdentity.From(await client.EnrolAsync(code!.EnrolmentCode, serial, CancellationToken.None));
        await client.AccessTokenAsync(identity.DeviceId, identity.AssertionAudience, CancellationToken.None);
        using var camera = await Administrator.PostAsJsonAsync($"/api/devices/{code.DeviceId}/cameras", new CreateCameraRequest("Entrance " + serial, 1));
        var cameraId = (await camera.Content.ReadFromJsonAsync<CameraResponse>())!.Id;
        if (enable)
        {
            (await Administrator.PostAsync($"/api/cameras/{cameraId}/enable", null)).EnsureSuccessStatusCode();
        }

        return new StackCamera(cameraId, identity, client, key, http);
    }

    public void Dispose() => Administrator.Dispose();
}

/// <summary>An enrolled camera on the real stack: what the uploader needs.</summary>
public sealed record StackCamera(Guid CameraId, DeviceIdentity Identity, DeviceClient Client, DeviceKey Key, HttpClient Http) : IDisposable
{
    public void Dispose()
    {
        Key.Dispose();
        Http.Dispose();
    }
}
