using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using CloudStore.Contracts;
using CloudStore.Device;
using CloudStore.LocalStack;

namespace CloudStore.Bench;

/// <summary>A camera enrolled through the API, as its device holds it: its own key and the device's conversation with the API.</summary>
public sealed record EnrolledCamera(Guid CameraId, DeviceIdentity Identity, DeviceKey Key, DeviceClient Client) : IDisposable
{
    public void Dispose() => Key.Dispose();
}

/// <summary>
/// An organisation of the load generator, set up the way operations and an administrator set one up: provisioned and
/// given licences by the operations commands (the only way licences exist), its administrator signed in with two-step
/// verification, its home region chosen; then cameras added through the same API calls an installer makes, one device
/// per camera, each device enrolling with a P-256 key of its own and signing in once (which reports its firmware).
/// </summary>
public sealed class BenchOrganization : IDisposable
{
    /// <summary>Licences one <c>licences</c> command adds at most (<c>LicenceRules.MaxCount</c>): the size of a bench organisation.</summary>
    public const int MaxCameras = 1000;

    /// <summary>An administrator's access token lives 10 minutes; a new one is fetched with the refresh token well before.</summary>
    static readonly TimeSpan RefreshAfter = TimeSpan.FromMinutes(5);

    /// <summary>The administrator's client; the token goes on each request (enrolments run in parallel while it is renewed).</summary>
    readonly HttpClient _administrator;
    readonly SemaphoreSlim _refreshing = new(1, 1);
    string _accessToken;
    string _refreshToken;
    long _signedInAt;
    int _cameras;

    BenchOrganization(Guid id, HttpClient administrator, TokenResponse tokens)
    {
        Id = id;
        _administrator = administrator;
        _accessToken = tokens.AccessToken;
        _refreshToken = tokens.RefreshToken!;
        _signedInAt = Stopwatch.GetTimestamp();
    }

    public Guid Id { get; }

    /// <summary>Whether a licence is left for another camera.</summary>
    public bool HasRoom => Volatile.Read(ref _cameras) < MaxCameras;

    /// <summary>Provisions an organisation with <see cref="MaxCameras"/> licences, homed in <paramref name="region"/>, and signs its administrator in.</summary>
    public static async Task<BenchOrganization> CreateAsync(LocalCloud stack, string name, string region, CancellationToken cancellationToken)
    {
        var email = $"admin-{Guid.NewGuid():N}@bench.cloudstore.test";
        var password = "bench-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var passwordFile = Path.Combine(stack.Options.StateFolder, "provision-password-" + Guid.NewGuid().ToString("N"));
        PrivateFile.Write(passwordFile, password);
        Guid id;
        try
        {
            var output = await Demo.RunFunctionsCommandAsync(stack, ["provision", "--name", name, "--admin-email", email, "--admin-password-file", passwordFile], cancellationToken);
            using var ids = JsonDocument.Parse(output);
            id = ids.RootElement.GetProperty("organizationId").GetGuid();
        }
        finally
        {
            File.Delete(passwordFile);
        }

        await Demo.RunFunctionsCommandAsync(stack, ["licences", "--organization", id.ToString(), "--count", MaxCameras.ToString(System.Globalization.CultureInfo.InvariantCulture)], cancellationToken);
        var administrator = new HttpClient(TrustedHttp.CreateHandler(stack.Certificates.CaCertificate)) { BaseAddress = new Uri(stack.FunctionsUrl, "/api/") };
        try
        {
            // Everyone's first sign-in enrols an authenticator: the password, then a new secret and its first code.
            var signIn = await SendAsync<SignInResponse>(administrator, HttpMethod.Post, "auth/sign-in", new SignInRequest(email, password), null, cancellationToken);
            var setup = await SendAsync<AuthenticatorSetupResponse>(administrator, HttpMethod.Post, "auth/authenticator/setup", new ChallengeRequest(signIn.Challenge!), null, cancellationToken);
            var signedIn = await SendAsync<SignInResponse>(administrator, HttpMethod.Post, "auth/authenticator/confirm",
                new AuthenticatorConfirmRequest(signIn.Challenge, Totp.Code(setup.SharedKey, TimeProvider.System.GetUtcNow())), null, cancellationToken);
            await SendAsync<OrganizationResponse>(administrator, HttpMethod.Put, "organization/region", new OrganizationRegionRequest(region), signedIn.Tokens!.AccessToken, cancellationToken);
            return new BenchOrganization(id, administrator, signedIn.Tokens);
        }
        catch
        {
            administrator.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reserves a licence for one more camera; false when all are taken. Callers reserve before <see cref="AddCameraAsync"/>,
    /// so parallel enrolments never ask for more cameras than the organisation has licences.
    /// </summary>
    public bool TryReserve()
    {
        while (true)
        {
            var current = Volatile.Read(ref _cameras);
            if (current >= MaxCameras)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _cameras, current + 1, current) == current)
            {
                return true;
            }
        }
    }

    /// <summary>
    /// What an installer and the camera do: the administrator creates a device (one-time enrolment code); the device
    /// makes its key, enrols and signs in once; the administrator adds its camera and enables it (a licence).
    /// </summary>
    /// <param name="deviceApi">The devices' shared client of the functions API (base address <c>…/api/</c>).</param>
    public async Task<EnrolledCamera> AddCameraAsync(HttpClient deviceApi, CancellationToken cancellationToken)
    {
        var serial = "BENCH" + Convert.ToHexString(RandomNumberGenerator.GetBytes(6));
        var created = await AdministratorAsync<EnrolmentCodeResponse>(HttpMethod.Post, "devices", new CreateDeviceRequest(serial, "AXIS M3086-V (simulated)"), cancellationToken);
        var key = DeviceKey.Create();
        try
        {
            var client = new DeviceClient(deviceApi, key, TimeProvider.System);
            var identity = DeviceIdentity.From(await client.EnrolAsync(created.EnrolmentCode, serial, cancellationToken));
            await client.AccessTokenAsync(identity.DeviceId, identity.AssertionAudience, cancellationToken);
            var camera = await AdministratorAsync<CameraResponse>(HttpMethod.Post, $"devices/{created.DeviceId}/cameras", new CreateCameraRequest("Bench " + serial, 1), cancellationToken);
            await AdministratorAsync<CameraResponse>(HttpMethod.Post, $"cameras/{camera.Id}/enable", null, cancellationToken);
            return new EnrolledCamera(camera.Id, identity, key, client);
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>A new access token from the refresh token (rotated on every use) once the current one is a few minutes old.</summary>
    async Task RefreshIfDueAsync(CancellationToken cancellationToken)
    {
        if (Stopwatch.GetElapsedTime(Volatile.Read(ref _signedInAt)) < RefreshAfter)
        {
            return;
        }

        await _refreshing.WaitAsync(cancellationToken);
        try
        {
            if (Stopwatch.GetElapsedTime(_signedInAt) >= RefreshAfter)
            {
                var tokens = await SendAsync<TokenResponse>(_administrator, HttpMethod.Post, "auth/token", new RefreshRequest(_refreshToken, Audiences.Api), null, cancellationToken);
                Volatile.Write(ref _accessToken, tokens.AccessToken);
                _refreshToken = tokens.RefreshToken!;
                Volatile.Write(ref _signedInAt, Stopwatch.GetTimestamp());
            }
        }
        finally
        {
            _refreshing.Release();
        }
    }

    /// <summary>A call as the administrator, with an access token renewed when due.</summary>
    async Task<T> AdministratorAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        await RefreshIfDueAsync(cancellationToken);
        return await SendAsync<T>(_administrator, method, path, body, Volatile.Read(ref _accessToken), cancellationToken);
    }

    static async Task<T> SendAsync<T>(HttpClient client, HttpMethod method, string path, object? body, string? accessToken, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative))
        {
            Content = body is null ? null : JsonContent.Create(body, body.GetType()),
        };
        if (accessToken is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        }

        using var response = await client.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }

        return (await response.Content.ReadFromJsonAsync<T>(cancellationToken))!;
    }

    public void Dispose()
    {
        _administrator.Dispose();
        _refreshing.Dispose();
    }
}

/// <summary>The load generator's cameras, in as many organisations as their licences need.</summary>
public sealed class BenchFleet(LocalCloud stack, HttpClient deviceApi, string region) : IDisposable
{
    /// <summary>Enrolments run this many at a time (each is five API calls).</summary>
    const int Parallelism = 16;

    readonly List<BenchOrganization> _organizations = [];
    readonly List<EnrolledCamera> _cameras = [];

    public IReadOnlyList<EnrolledCamera> Cameras => _cameras;

    /// <summary>Adds cameras until there are <paramref name="total"/>; returns the new ones.</summary>
    public async Task<IReadOnlyList<EnrolledCamera>> GrowToAsync(int total, CancellationToken cancellationToken)
    {
        var wanted = total - _cameras.Count;
        var added = new List<EnrolledCamera>(Math.Max(0, wanted));
        while (added.Count < wanted)
        {
            var organization = _organizations.LastOrDefault(o => o.HasRoom);
            if (organization is null)
            {
                organization = await BenchOrganization.CreateAsync(stack, $"Bench {_organizations.Count + 1}", region, cancellationToken);
                _organizations.Add(organization);
            }

            var batch = 0;
            while (added.Count + batch < wanted && organization.TryReserve())
            {
                batch++;
            }

            var enrolled = new EnrolledCamera[batch];
            await Parallel.ForEachAsync(Enumerable.Range(0, batch), new ParallelOptions { MaxDegreeOfParallelism = Parallelism, CancellationToken = cancellationToken },
                async (i, token) => enrolled[i] = await organization.AddCameraAsync(deviceApi, token));
            added.AddRange(enrolled);
        }

        _cameras.AddRange(added);
        return added;
    }

    public void Dispose()
    {
        _cameras.ForEach(c => c.Dispose());
        _organizations.ForEach(o => o.Dispose());
    }
}
