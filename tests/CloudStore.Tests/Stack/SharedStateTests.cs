using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CloudStore.Contracts;
using CloudStore.LocalStack;
using CloudStore.Testing;
using CloudStore.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit;

namespace CloudStore.Tests.Stack;

/// <summary>
/// Two functions hosts and two players on one PostgreSQL, as a scaled-out deployment runs them: every count, every
/// single-use token and every session is the database's, so what is done through one instance holds on the other.
/// Always on PostgreSQL (the production database), whichever database the rest of the run tests.
/// </summary>
public sealed class SharedStateTests(SharedStateTests.TwoOfEach stack) : IClassFixture<SharedStateTests.TwoOfEach>
{
    /// <summary>The stack with a second functions host and a second player, and Debian's Chromium trusting it.</summary>
    public sealed class TwoOfEach : IAsyncLifetime
    {
        readonly string _folder = LocalCloudFixture.PassableTempFolder();
        IPlaywright? _playwright;

        public LocalCloud Cloud { get; private set; } = null!;

        public Uri SecondFunctions { get; private set; } = null!;

        public Uri SecondPlayer { get; private set; } = null!;

        public IBrowser Browser { get; private set; } = null!;

        public StackTenant Tenant { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(4));
            Cloud = await LocalCloud.StartAsync(new LocalCloudOptions(_folder, PersistentStorage: false)
            {
                Database = "postgresql",
                // The limiter's window from 1 s to 1 min: requests to real hosts (each hashing a password) cannot make
                // twenty failures within a second on this machine, and the test is about who counts, not how fast.
                ExtraFunctionsSettings = new Dictionary<string, string> { ["Auth__ClientFailureWindow"] = "00:01:00" },
            }, timeout.Token);
            (SecondFunctions, SecondPlayer) = await Cloud.StartSecondInstancesAsync(timeout.Token);
            Tenant = await StackTenant.CreateAsync(Cloud, Regions.EuFrankfurt);
            _playwright = await Playwright.CreateAsync();
            Browser = await LocalChromium.LaunchAsync(_playwright, Cloud.Certificates.ServerCertificate);
        }

        public HttpClient Client(Uri baseAddress) => new(TrustedHttp.CreateHandler(Cloud.Certificates.CaCertificate)) { BaseAddress = baseAddress };

        /// <summary>A client of a functions host that names the browser it speaks for, as the player does with its front-end key.</summary>
        public HttpClient Browsing(Uri functions, string browserAddress)
        {
            var client = Client(functions);
            client.DefaultRequestHeaders.Add(FrontEnd.KeyHeader, FrontEnd.ReadKey(Cloud.FrontEndKeyFile));
            client.DefaultRequestHeaders.Add(FrontEnd.ClientAddressHeader, browserAddress);
            return client;
        }

        public async Task DisposeAsync()
        {
            Tenant?.Dispose();
            if (Browser is not null)
            {
                await Browser.DisposeAsync();
            }

            _playwright?.Dispose();
            if (Cloud is not null)
            {
                await Cloud.DisposeAsync();
            }

            Directory.Delete(_folder, recursive: true);
        }
    }

    LocalCloud Cloud => stack.Cloud;

    Uri[] FunctionsHosts => [Cloud.FunctionsUrl, stack.SecondFunctions];

    [Fact]
    public async Task ClientLimiter_CountsFailuresMadeThroughEitherInstance()
    {
        const string attacker = "2001:db8:5::bad";
        using var first = stack.Browsing(Cloud.FunctionsUrl, attacker);
        using var second = stack.Browsing(stack.SecondFunctions, attacker);
        using var bystander = stack.Browsing(stack.SecondFunctions, "2001:db8:5::600d");
        var administrator = stack.Tenant.AdministratorUser;

        // Nineteen failures, alternating: neither instance saw more than ten, and none of them is refused for the client.
        var failures = new List<HttpStatusCode>();
        for (var i = 0; i < 19; i++)
        {
            using var failed = await (i % 2 == 0 ? first : second).PostAsJsonAsync("/api/auth/sign-in", new SignInRequest($"guess{i}@example.test", "wrong password " + i));
            failures.Add(failed.StatusCode);
        }

        using var twentieth = await second.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest("guess19@example.test", "wrong password 19"));
        using var blockedOnFirst = await first.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(administrator.Email, administrator.Password));
        using var blockedOnSecond = await second.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(administrator.Email, administrator.Password));
        using var other = await bystander.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(administrator.Email, administrator.Password));

        Assert.All(failures, s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.Equal(HttpStatusCode.Unauthorized, twentieth.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, blockedOnFirst.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, blockedOnSecond.StatusCode);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task Authenticator_SealedOnOneInstance_OpensOnTheOther_EnrolmentAndRecoveryCodes()
    {
        // The secret and the codes are sealed with data protection: every instance must read the same key ring.
        var user = await stack.Tenant.AddUserAsync(Roles.Operator);
        using var first = stack.Browsing(Cloud.FunctionsUrl, "2001:db8:6::300");
        using var second = stack.Browsing(stack.SecondFunctions, "2001:db8:6::300");

        var password = await (await first.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(user.Email, user.Password))).Content.ReadFromJsonAsync<SignInResponse>();
        var setup = await (await first.PostAsJsonAsync("/api/auth/authenticator/setup", new ChallengeRequest(password!.Challenge!))).Content.ReadFromJsonAsync<AuthenticatorSetupResponse>();
        using var confirmed = await second.PostAsJsonAsync("/api/auth/authenticator/confirm",
            new AuthenticatorConfirmRequest(password.Challenge, Totp.Code(setup!.SharedKey, TimeProvider.System.GetUtcNow())));
        var enrolled = await confirmed.Content.ReadFromJsonAsync<SignInResponse>();
        var again = await (await first.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(user.Email, user.Password))).Content.ReadFromJsonAsync<SignInResponse>();
        using var withRecoveryCode = await first.PostAsJsonAsync("/api/auth/two-factor", new TwoFactorRequest(again!.Challenge!, null, enrolled!.RecoveryCodes![0]));

        Assert.Equal(SignInResponse.SignedIn, enrolled.Status);
        Assert.Equal(HttpStatusCode.OK, withRecoveryCode.StatusCode);
    }

    [Fact]
    public async Task AccountLockout_CountsWrongPasswordsMadeThroughEitherInstance()
    {
        var user = await stack.Tenant.AddUserAsync(Roles.Operator);

        // Four wrong passwords, two on each instance, do not lock the account (five do); the right one still works.
        for (var i = 0; i < 4; i++)
        {
            using var wrong = stack.Browsing(FunctionsHosts[i % 2], $"2001:db8:6::{i + 1:x}");
            (await wrong.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(user.Email, "wrong password " + i))).Dispose();
        }

        using (var right = stack.Browsing(stack.SecondFunctions, "2001:db8:6::100"))
        using (var accepted = await right.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(user.Email, user.Password)))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        // The right password ended that run. Five more, alternating, lock it: on both instances.
        for (var i = 0; i < 5; i++)
        {
            using var wrong = stack.Browsing(FunctionsHosts[i % 2], $"2001:db8:6::{i + 0x11:x}");
            using var refused = await wrong.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(user.Email, "wrong password again " + i));
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        foreach (var host in FunctionsHosts)
        {
            using var right = stack.Browsing(host, "2001:db8:6::200");
            using var locked = await right.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(user.Email, user.Password));
            Assert.Equal(HttpStatusCode.Unauthorized, locked.StatusCode);
        }
    }

    [Fact]
    public async Task OneRefreshToken_UsedOnEachInstanceAtOnce_OneSuccess_AndTheFamilyRevoked()
    {
        var user = await stack.Tenant.AddUserAsync(Roles.Viewer);
        using (var signIn = stack.Client(Cloud.FunctionsUrl))
        {
            await SignInFlow.SignInAsync(signIn, user, TimeProvider.System);
        }

        var refresh = user.Tokens!.RefreshToken!;
        using var first = stack.Client(Cloud.FunctionsUrl);
        using var second = stack.Client(stack.SecondFunctions);

        var answers = await Task.WhenAll(
            Task.Run(() => first.PostAsJsonAsync("/api/auth/token", new RefreshRequest(refresh, null))),
            Task.Run(() => second.PostAsJsonAsync("/api/auth/token", new RefreshRequest(refresh, null))));
        var winner = answers.SingleOrDefault(a => a.StatusCode == HttpStatusCode.OK);
        var statuses = answers.Select(a => a.StatusCode).ToList();
        var issued = winner is null ? null : await winner.Content.ReadFromJsonAsync<TokenResponse>();
        foreach (var answer in answers)
        {
            answer.Dispose();
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.Unauthorized], statuses.Order());
        // The loser's attempt was reuse of a spent token: the whole session ends, the winner's new token with it, everywhere.
        foreach (var client in new[] { first, second })
        {
            using var after = await client.PostAsJsonAsync("/api/auth/token", new RefreshRequest(issued!.RefreshToken!, null));
            Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        }
    }

    [Fact]
    public async Task PlayerSession_StartedOnOnePlayer_WorksOnTheOther_AndSigningOutOnEitherEndsIt()
    {
        await using var context = await stack.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(Cloud.PlayerUrl, "/sign-in").ToString());
        await PlayerPage.SignInAsync(page, stack.Tenant.AdministratorUser);

        // Same site, so the browser sends the session cookie to the second player too, as it would behind one load balancer.
        await page.GotoAsync(stack.SecondPlayer.ToString());
        await PlayerPage.ExpectAsync(page, "form.sign-out");
        Assert.Equal("/", new Uri(page.Url).AbsolutePath);
        Assert.Equal("Cameras", await page.InnerTextAsync("h1"));

        // Both players asked for a key-server token at once: one refreshes (the refresh token is single-use), the other
        // waits for its result. Had both refreshed, the API would have taken the second for theft and ended the session.
        var cookie = await PlayerPage.CookieHeaderAsync(context);
        var tokens = await Task.WhenAll(new[] { Cloud.PlayerUrl, stack.SecondPlayer }.Select(player => Task.Run(() => TokenAsync(player, cookie, Audiences.KeyServer))));
        Assert.All(tokens, t => Assert.Equal(HttpStatusCode.OK, t.Status));
        Assert.Single(tokens.Select(t => t.AccessToken).Distinct());
        Assert.Equal(HttpStatusCode.OK, (await TokenAsync(Cloud.PlayerUrl, cookie, Audiences.Api)).Status);

        await page.ClickAsync("form.sign-out button");
        await page.GotoAsync(Cloud.PlayerUrl.ToString());
        Assert.Equal("/sign-in", new Uri(page.Url).AbsolutePath);
        Assert.Equal(HttpStatusCode.Unauthorized, (await TokenAsync(Cloud.PlayerUrl, cookie, Audiences.Api)).Status);
    }

    async Task<(HttpStatusCode Status, string? AccessToken)> TokenAsync(Uri player, string cookie, string audience)
    {
        using var client = stack.Client(player);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/session/token?audience={audience}");
        request.Headers.Add("Cookie", cookie);
        using var response = await client.SendAsync(request);
        if (!response.IsSuccessStatusCode)
        {
            return (response.StatusCode, null);
        }

        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, body.RootElement.GetProperty("access_token").GetString());
    }
}
