using System.Net;
using System.Net.Http.Json;
using CloudStore.Contracts;
using CloudStore.Device.Media;
using CloudStore.LocalStack;
using CloudStore.Testing;
using CloudStore.Tests.Infrastructure;
using CloudStore.Tests.Upload;
using Microsoft.Playwright;
using Xunit;

namespace CloudStore.Tests.Browser;

/// <summary>
/// Single sign-on end to end, in Chromium: two organisations, each with its own OpenID Connect provider (node
/// oidc-provider on loopback), trusted by the functions for that organisation only and offered by the player. A person
/// signs in at their provider, CloudStore maps them to a user of that organisation with the role their claim gives,
/// and they play recordings like anyone else; no role, no entry; one organisation's provider opens nothing of the other.
/// </summary>
public sealed class SingleSignOnTests(SingleSignOnTests.TwoOrganisations setup, SourceVideoFixture video)
    : IClassFixture<SingleSignOnTests.TwoOrganisations>, IClassFixture<SourceVideoFixture>
{
    public sealed class TwoOrganisations : IAsyncLifetime
    {
        readonly string _folder = LocalCloudFixture.PassableTempFolder();
        readonly List<IAsyncDisposable> _parts = [];
        IPlaywright? _playwright;

        public LocalCloud Cloud { get; private set; } = null!;

        public IBrowser Browser { get; private set; } = null!;

        public StackTenant First { get; private set; } = null!;

        public StackTenant Second { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
            var certificates = DevelopmentCertificates.Ensure(Path.Combine(_folder, "tls"), TimeProvider.System);
            var playerPort = ChildProcess.FreePort();
            var logs = Path.Combine(_folder, "logs");
            Directory.CreateDirectory(logs);
            var (firstId, secondId) = (Guid.NewGuid(), Guid.NewGuid());
            var firstProvider = await StartProviderAsync(certificates, playerPort, 0, logs, timeout.Token);
            var secondProvider = await StartProviderAsync(certificates, playerPort, 1, logs, timeout.Token);
            Cloud = await LocalCloud.StartAsync(new LocalCloudOptions(_folder, PersistentStorage: false, PlayerPort: playerPort)
            {
                Database = TestDatabase.Provider,
                ExtraFunctionsSettings = Merge(firstProvider.FunctionsSettings(firstId, 0), secondProvider.FunctionsSettings(secondId, 1)),
                ExtraPlayerSettings = Merge(firstProvider.PlayerSettings("Harbour Ltd", 0), secondProvider.PlayerSettings("Orchard Inc", 1)),
            }, timeout.Token);
            First = await StackTenant.CreateAsync(Cloud, Regions.EuFrankfurt, firstId);
            Second = await StackTenant.CreateAsync(Cloud, Regions.EuFrankfurt, secondId);
            _playwright = await Playwright.CreateAsync();
            Browser = await LocalChromium.LaunchAsync(_playwright, Cloud.Certificates.ServerCertificate);
        }

        async Task<IdentityProvider> StartProviderAsync(CertificateFiles certificates, int playerPort, int index, string logs, CancellationToken cancellationToken)
        {
            var provider = await IdentityProvider.StartAsync(certificates, "cloudstore-player",
                new Uri($"https://127.0.0.1:{playerPort}/signin-sso-{index}"), Path.Combine(logs, $"identity-provider-{index}.log"), cancellationToken);
            _parts.Add(provider);
            return provider;
        }

        static Dictionary<string, string> Merge(Dictionary<string, string> first, Dictionary<string, string> second) =>
            first.Concat(second).ToDictionary(p => p.Key, p => p.Value);

        public async Task DisposeAsync()
        {
            First?.Dispose();
            Second?.Dispose();
            if (Browser is not null)
            {
                await Browser.DisposeAsync();
            }

            _playwright?.Dispose();
            if (Cloud is not null)
            {
                await Cloud.DisposeAsync();
            }

            foreach (var part in _parts)
            {
                await part.DisposeAsync();
            }

            Directory.Delete(_folder, recursive: true);
        }
    }

    LocalCloud Cloud => setup.Cloud;

    [Fact]
    public async Task Operator_SignsInAtTheOrganisationsProvider_BecomesAnOperatorThere_AndPlaysARecording()
    {
        var cameraId = await RecordAsync(setup.First);
        await using var context = await setup.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var diagnostics = PlayerPage.Diagnostics(page);
        var login = $"operator-{Guid.NewGuid():N}"[..20];

        await SignInAtProviderAsync(page, "Harbour Ltd", login);

        await PlayerPage.ExpectAsync(page, "form.sign-out");
        Assert.Contains("operator", await page.InnerTextAsync("header .who"));
        var row = page.Locator("table.cameras tr", new() { Has = page.Locator($"a[href='cameras/{cameraId}']") });
        await row.Locator("a").ClickAsync();
        await PlayerPage.ExpectAsync(page, "#player[data-ready]");
        var start = video.Segments[0].StartTime;
        await PlayerPage.WaitForPlayingAsync(page, t => t >= start, "playing the recording as an SSO operator", diagnostics);
        Assert.True(await PlayerPage.FrameContrastAsync(page) > 64, "the decoded frame shows the test picture");

        // The same audit as anyone's: a user made for them, and their sign-in.
        var users = await setup.First.Administrator.GetFromJsonAsync<List<UserResponse>>("/api/users");
        var user = Assert.Single(users!, u => u.Email == $"{login}@idp.test");
        Assert.Equal(Roles.Operator, user.Role);
        var signIns = await setup.First.Administrator.GetFromJsonAsync<List<AuditEntryResponse>>($"/api/audit?actor=user:{user.Id}&action=auth.sign-in");
        Assert.Contains(signIns!, e => e.Outcome == "success:sso");
    }

    [Fact]
    public async Task PersonWithoutARoleClaim_IsRefused_AndNoUserIsMade()
    {
        await using var context = await setup.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var login = $"visitor-{Guid.NewGuid():N}"[..20];

        await SignInAtProviderAsync(page, "Harbour Ltd", login);

        Assert.Equal("/sign-in", new Uri(page.Url).AbsolutePath);
        Assert.Contains("gives you no role here", await page.InnerTextAsync("[role=alert]"));
        Assert.Equal(0, await page.Locator("form.sign-out").CountAsync());
        var users = await setup.First.Administrator.GetFromJsonAsync<List<UserResponse>>("/api/users");
        Assert.DoesNotContain(users!, u => u.Email.StartsWith(login, StringComparison.Ordinal));
        var refused = await setup.First.Administrator.GetFromJsonAsync<List<AuditEntryResponse>>("/api/audit?action=auth.sign-in&target=" + login);
        Assert.Contains(refused!, e => e.Outcome == "failure:no-mapped-role");
    }

    [Fact]
    public async Task AdministratorOfTheOtherOrganisationsProvider_SeesOnlyThatOrganisation()
    {
        var cameraId = await RecordAsync(setup.First);
        await using var context = await setup.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var login = $"admin-{Guid.NewGuid():N}"[..20];

        await SignInAtProviderAsync(page, "Orchard Inc", login);

        await PlayerPage.ExpectAsync(page, "form.sign-out");
        Assert.Contains("administrator", await page.InnerTextAsync("header .who"));
        Assert.Equal(0, await page.Locator($"a[href='cameras/{cameraId}']").CountAsync());
        var second = await setup.Second.Administrator.GetFromJsonAsync<List<UserResponse>>("/api/users");
        Assert.Contains(second!, u => u.Email == $"{login}@idp.test" && u.Role == Roles.Administrator);
        var first = await setup.First.Administrator.GetFromJsonAsync<List<UserResponse>>("/api/users");
        Assert.DoesNotContain(first!, u => u.Email == $"{login}@idp.test");

        // With the session's own API token, the first organisation's camera does not exist for them.
        using var client = new HttpClient(TrustedHttp.CreateHandler(Cloud.Certificates.CaCertificate)) { BaseAddress = Cloud.PlayerUrl };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/session/token?audience=" + Audiences.Api);
        request.Headers.Add("Cookie", await PlayerPage.CookieHeaderAsync(context));
        using var tokenResponse = await client.SendAsync(request);
        var token = (await tokenResponse.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("access_token").GetString();
        using var api = new HttpClient(TrustedHttp.CreateHandler(Cloud.Certificates.CaCertificate)) { BaseAddress = Cloud.FunctionsUrl };
        api.DefaultRequestHeaders.Authorization = new("Bearer", token);
        using var foreign = await api.GetAsync($"/api/cameras/{cameraId}");
        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
    }

    [Fact]
    public async Task ExternalSignIn_ATokenOfNoTrustedProvider_401_AndNothingMade()
    {
        using var api = new HttpClient(TrustedHttp.CreateHandler(Cloud.Certificates.CaCertificate)) { BaseAddress = Cloud.FunctionsUrl };
        await using var provider = await FakeExternalIdentityProvider.StartAsync(Path.Combine(Cloud.Options.StateFolder, "untrusted-idp"));
        using var forged = await api.PostAsJsonAsync("/api/auth/external", new ExternalSignInRequest(provider.IssueToken("cloudstore-player", "eve", ["CloudStore.Admins"])));
        using var garbage = await api.PostAsJsonAsync("/api/auth/external", new ExternalSignInRequest("not a token"));

        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, garbage.StatusCode);
        Assert.Equal("application/problem+json", forged.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>From the player's sign-in page through the provider's own pages (login, then consent) and back.</summary>
    async Task SignInAtProviderAsync(IPage page, string providerName, string login)
    {
        await page.GotoAsync(new Uri(Cloud.PlayerUrl, "/sign-in").ToString());
        await page.ClickAsync($"a:text('Sign in with {providerName}')");
        await PlayerPage.ExpectAsync(page, "input[name=login]");
        await page.FillAsync("input[name=login]", login);
        await page.FillAsync("input[name=password]", "any password");
        await page.ClickAsync("button[type=submit]");
        await page.ClickAsync("button:text('Continue')");
        await page.WaitForURLAsync(url => new Uri(url).Port == Cloud.PlayerUrl.Port && !new Uri(url).AbsolutePath.StartsWith("/signin-sso", StringComparison.Ordinal));
        await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
    }

    async Task<Guid> RecordAsync(StackTenant tenant)
    {
        using var camera = await tenant.AddCameraAsync();
        var cache = Directory.CreateTempSubdirectory("cloudstore-sso-").FullName;
        try
        {
            using var uploader = UploadTestKit.Uploader(Cloud, camera, cache);
            await uploader.RunAsync(new VideoSource.Folder(video.Playlist), new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);
        }
        finally
        {
            Directory.Delete(cache, recursive: true);
        }

        return camera.CameraId;
    }
}
