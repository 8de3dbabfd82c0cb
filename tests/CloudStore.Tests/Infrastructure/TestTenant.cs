using System.Net.Http.Headers;
using System.Net.Http.Json;
using CloudStore.Contracts;
using CloudStore.Device;
using CloudStore.ControlPlane.Licences;
using CloudStore.ControlPlane.Organizations;
using CloudStore.LocalStack;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudStore.Tests.Infrastructure;

/// <summary>A person of a test organisation, with the secrets a real user would hold.</summary>
public sealed class TestUser(Guid id, string email, string password, string role)
{
    public Guid Id { get; } = id;

    public string Email { get; } = email;

    public string Password { get; } = password;

    public string Role { get; } = role;

    /// <summary>The authenticator secret once enrolled (what the person's phone holds).</summary>
    public string? AuthenticatorKey { get; set; }

    public IReadOnlyList<string> RecoveryCodes { get; set; } = [];

    /// <summary>The time step of the last code this person's authenticator gave the server: a code is accepted once.</summary>
    public long? LastTotpStep { get; set; }

    /// <summary>
    /// The code a person would type now: the current one, or, when that one was already used, the next step's (the server
    /// accepts one step of drift); when that is used too, waits for the next step as a person waits for a new code
    /// (in real time even with a test clock: token validation reads the real clock, so moving it would break tokens).
    /// The step is recorded as used: call this only for a code that is sent.
    /// </summary>
    public async Task<string> NextCodeAsync(TimeProvider clock)
    {
        while (true)
        {
            var now = clock.GetUtcNow();
            var current = now.ToUnixTimeSeconds() / 30;
            var step = Math.Max(current, (LastTotpStep ?? long.MinValue) + 1);
            if (step <= current + 1)
            {
                LastTotpStep = step;
                return Totp.Code(AuthenticatorKey!, DateTimeOffset.FromUnixTimeSeconds(step * 30));
            }

            await Task.Delay(TimeSpan.FromSeconds(30 - (now.ToUnixTimeSeconds() % 30)) + TimeSpan.FromMilliseconds(100));
        }
    }

    public TokenResponse? Tokens { get; set; }
}

/// <summary>An organisation of its own for one test, made as operations makes one, with its first administrator signed in.</summary>
public sealed class TestTenant
{
    static int s_counter;

    TestTenant(FunctionsFactory factory, Guid organizationId, TestUser administrator)
    {
        Factory = factory;
        OrganizationId = organizationId;
        Administrator = administrator;
    }

    public FunctionsFactory Factory { get; }

    public Guid OrganizationId { get; }

    public TestUser Administrator { get; }

    public static string NewPassword() => "correct horse battery " + Guid.NewGuid().ToString("N")[..8];

    /// <param name="licences">Licences operations adds at once (each enabled camera uses one).</param>
    public static async Task<TestTenant> CreateAsync(FunctionsFactory factory, string name = "Tenant", Guid? organizationId = null, int licences = 10)
    {
        await TestMailServer.StartedAsync(); // invitations are mailed: the relay must be up before the first one
        var number = Interlocked.Increment(ref s_counter);
        var email = $"admin{number}-{Guid.NewGuid():N}@{name.ToLowerInvariant()}.test";
        var password = NewPassword();
        await using var scope = factory.Services.CreateAsyncScope();
        var provisioned = await scope.ServiceProvider.GetRequiredService<OrganizationProvisioning>()
            .CreateAsync($"{name} {number}", email, password, CancellationToken.None, organizationId);
        if (licences > 0)
        {
            Assert.Null((await scope.ServiceProvider.GetRequiredService<LicenceService>().AddCountAsync(provisioned.Organization.Id, licences, CancellationToken.None)).Refusal);
        }

        var administrator = new TestUser(provisioned.Administrator.Id, email, password, Roles.Administrator);
        var tenant = new TestTenant(factory, provisioned.Organization.Id, administrator);
        await tenant.SignInAsync(administrator);
        return tenant;
    }

    /// <summary>
    /// Adds a person as it happens for real: the administrator invites them (email and role), the invitation arrives
    /// in the test mail server, and the person follows its link and chooses a password; then, unless told not to,
    /// they sign in (which enrols their authenticator).
    /// </summary>
    public async Task<TestUser> AddUserAsync(string role, bool signIn = true)
    {
        var invited = await InviteAsync(role);
        using var inbox = await MailInbox.ForTestsAsync();
        var user = new TestUser(invited.Id, invited.Email, NewPassword(), role);
        using var anonymous = Factory.NewClient();
        using var accepted = await anonymous.PostAsJsonAsync("/api/invitations/accept", new AcceptInvitationRequest((await inbox.WaitForAsync(user.Email)).LinkToken, user.Password));
        Assert.True(accepted.IsSuccessStatusCode, await accepted.Content.ReadAsStringAsync());
        if (signIn)
        {
            await SignInAsync(user);
        }

        return user;
    }

    /// <summary>Invites a person (a new address) as the administrator does; they have not accepted yet.</summary>
    public async Task<UserResponse> InviteAsync(string role)
    {
        var email = $"{role}-{Guid.NewGuid():N}@tenant.test";
        using var client = Client(Administrator);
        using var response = await client.PostAsJsonAsync("/api/users", new CreateUserRequest(email, role));
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<UserResponse>())!;
    }

    /// <summary>Signs in the way the player does: password, then enrol or answer the authenticator as asked.</summary>
    public async Task<TokenResponse> SignInAsync(TestUser user)
    {
        using var client = Factory.NewClient();
        return await SignInFlow.SignInAsync(client, user, Factory.Clock);
    }

    /// <summary>Creates a device as the administrator does; returns its one-time enrolment code.</summary>
    public async Task<EnrolmentCodeResponse> CreateDeviceAsync(string serial)
    {
        using var admin = Client(Administrator);
        using var response = await admin.PostAsJsonAsync("/api/devices", new CreateDeviceRequest(serial, "AXIS M3086-V"));
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<EnrolmentCodeResponse>())!;
    }

    /// <summary>A device (not enrolled, so no firmware reported) with one camera on channel 1; returns the camera's id.</summary>
    public async Task<Guid> AddCameraAsync(string serial, string name)
    {
        var device = await CreateDeviceAsync(serial);
        using var admin = Client(Administrator);
        using var response = await admin.PostAsJsonAsync($"/api/devices/{device.DeviceId}/cameras", new CreateCameraRequest(name, 1));
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<CameraResponse>())!.Id;
    }

    /// <summary>
    /// A device enrolled with its own key that has signed in once reporting <paramref name="firmware"/>, with one
    /// camera on channel 1 (not enabled). The key stays with the caller, to sign in again as the device.
    /// </summary>
    public async Task<TestCamera> AddReportingCameraAsync(string serial, string name, string firmware)
    {
        var created = await CreateDeviceAsync(serial);
        var key = DeviceKey.Create();
        var enrolled = await Factory.DeviceClient(key).EnrolAsync(created.EnrolmentCode, serial, CancellationToken.None);
        var camera = new TestCamera(Guid.Empty, enrolled.DeviceId, DeviceIdentity.From(enrolled), key);
        await camera.SignInAsync(Factory, firmware);
        using var admin = Client(Administrator);
        using var response = await admin.PostAsJsonAsync($"/api/devices/{enrolled.DeviceId}/cameras", new CreateCameraRequest(name, 1));
        Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
        return camera with { CameraId = (await response.Content.ReadFromJsonAsync<CameraResponse>())!.Id };
    }

    /// <summary>Creates a device and enrols it as the camera does; returns its id and a device access token.</summary>
    public async Task<(Guid DeviceId, string AccessToken)> EnrolDeviceAsync(string serial)
    {
        var created = await CreateDeviceAsync(serial);
        using var key = DeviceKey.Create();
        var device = Factory.DeviceClient(key);
        var enrolled = await device.EnrolAsync(created.EnrolmentCode, serial, CancellationToken.None);
        return (enrolled.DeviceId, await device.AccessTokenAsync(enrolled.DeviceId, enrolled.AssertionAudience, CancellationToken.None));
    }

    /// <summary>A client that sends <paramref name="user"/>'s access token.</summary>
    public HttpClient Client(TestUser user) => Factory.ClientWithToken(user.Tokens!.AccessToken);
}

/// <summary>A camera of an enrolled device, with the device's key (disposed with it).</summary>
public sealed record TestCamera(Guid CameraId, Guid DeviceId, DeviceIdentity Identity, DeviceKey Key) : IDisposable
{
    /// <summary>Signs in as the device does (a fresh assertion reporting <paramref name="firmware"/>); returns a device access token.</summary>
    public Task<string> SignInAsync(FunctionsFactory factory, string firmware) =>
        factory.DeviceClient(Key, firmware).AccessTokenAsync(Identity.DeviceId, Identity.AssertionAudience, CancellationToken.None);

    public void Dispose() => Key.Dispose();
}

public static class FactoryExtensions
{
    /// <summary>
    /// A client that appears to come from an address of its own (IPv6 documentation range; nothing is
    /// ever sent there), so one test's failed sign-ins never trip the per-client limiter for another.
    /// </summary>
    public static HttpClient NewClient(this FunctionsFactory factory, string? clientAddress = null)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Add(FunctionsFactory.ClientHeader, clientAddress ?? $"2001:db8::{Random.Shared.Next(1, 0xffff):x}:{Random.Shared.Next(1, 0xffff):x}");
        return client;
    }

    /// <summary>The reference camera's client, talking to the in-process API.</summary>
    public static DeviceClient DeviceClient(this FunctionsFactory factory, DeviceKey key, string firmware = DeviceClientOptions.DefaultFirmwareVersion)
    {
        var http = factory.NewClient();
        http.BaseAddress = new Uri(http.BaseAddress!, "/api/");
        return new DeviceClient(http, key, factory.Clock, new DeviceClientOptions { FirmwareVersion = firmware });
    }

    public static HttpClient ClientWithToken(this FunctionsFactory factory, string accessToken)
    {
        var client = factory.NewClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return client;
    }
}
