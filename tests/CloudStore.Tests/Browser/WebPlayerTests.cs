using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Json;
using CloudStore.Contracts;
using CloudStore.Device.Media;
using CloudStore.LocalStack;
using CloudStore.Tests.Infrastructure;
using CloudStore.Tests.Upload;
using Microsoft.Playwright;
using Xunit;

namespace CloudStore.Tests.Browser;

/// <summary>
/// The web player as an operator uses it, in Debian's Chromium against the real stack: sign-in with a
/// password and an authenticator code, the camera list, and recordings decrypted and played in the
/// browser, with the timeline, seeking and a gap in the recording.
/// </summary>
public sealed class WebPlayerTests(BrowserFixture browser, SourceVideoFixture video)
    : IClassFixture<BrowserFixture>, IClassFixture<SourceVideoFixture>, IDisposable
{
    static readonly TimeSpan Gap = TimeSpan.FromSeconds(30);

    readonly string _work = Directory.CreateTempSubdirectory("cloudstore-player-").FullName;

    /// <summary>What the browser reported (console errors, failed requests), for the message of a failing wait.</summary>
    ConcurrentQueue<string> _diagnostics = new();

    LocalCloud Cloud => browser.Stack.Cloud;

    public static TheoryData<string> StorageKinds => [Regions.EuFrankfurt, Regions.UsVirginia];

    [Theory]
    [MemberData(nameof(StorageKinds))]
    public async Task Operator_SignsInWithTotp_WatchesSeeksAndPlaysAcrossAGap_AndStorageNeverSeesAToken(string region)
    {
        using var tenant = await StackTenant.CreateAsync(Cloud, region);
        var (cameraId, first, second) = await RecordWithGapAsync(tenant);
        await using var context = await browser.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var requests = new ConcurrentQueue<IRequest>();
        page.Request += (_, request) => requests.Enqueue(request);
        var errors = new ConcurrentQueue<string>();
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
            {
                errors.Enqueue(message.Text);
            }
        };
        page.RequestFailed += (_, request) => errors.Enqueue($"request failed: {request.Url} {request.Failure}");
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                errors.Enqueue($"{response.Status} {response.Url}");
            }
        };
        _diagnostics = errors;

        // Sign in (password, then the authenticator's code) and pick the camera from the list.
        await page.GotoAsync(Cloud.PlayerUrl.ToString());
        await SignInAsync(page, tenant.AdministratorUser);
        var row = page.Locator("table.cameras tr", new() { Has = page.Locator($"a[href='cameras/{cameraId}']") });
        Assert.Contains(Regions.Display(region), await row.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Contains(Utc(second.End)[..16], await row.InnerTextAsync(), StringComparison.Ordinal);
        await row.Locator("a").ClickAsync();
        await ExpectAsync(page, "#player[data-ready]");

        // Jump to a moment in the first recording: the video plays from there, decrypted.
        var start = first.Start.AddSeconds(1);
        // A datetime-local input drops ":00" seconds from its value; Playwright checks the value it typed.
        var local = start.UtcDateTime.ToString(start.Second == 0 ? "yyyy-MM-dd'T'HH:mm" : "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        await page.FillAsync("#jump-at", local);
        await page.ClickAsync("#jump button[type=submit]");
        var playing = await WaitForPlayingAsync(page, t => t >= first.Start && t < first.End, "playing the first recording");
        Assert.True(playing - start < SourceVideoFixture.SegmentLength + TimeSpan.FromSeconds(1), $"started at {playing:O}, asked for {start:O}");
        var before = await CurrentTimeAsync(page);
        await Task.Delay(1000);
        Assert.True(await CurrentTimeAsync(page) > before + 0.5, "currentTime advances");
        Assert.True(await FrameContrastAsync(page) > 64, "the decoded frame shows the test picture, not a blank one");

        // Playback goes on over the gap into the second recording.
        await WaitForPlayingAsync(page, t => t >= second.Start, "playing on after the gap", seconds: 30);
        before = await CurrentTimeAsync(page);
        await Task.Delay(700);
        Assert.True(await CurrentTimeAsync(page) > before, "currentTime advances after the gap");
        Assert.Equal("", await page.InnerTextAsync("#message"));

        // Seek back with the timeline: zoom to a few minutes, click a moment in the first recording.
        await page.ClickAsync("#view-hour");
        for (var i = 0; i < 4; i++)
        {
            await page.ClickAsync("#zoom-in");
        }

        var target = first.Start.AddSeconds(3);
        var clicked = await ClickTimelineAsync(page, target);
        var landed = await WaitForPlayingAsync(page, t => t < second.Start, "the seek back into the first recording");
        Assert.True((landed - clicked).Duration() <= SourceVideoFixture.SegmentLength, $"landed at {landed:O}, clicked {clicked:O}");

        // The token went to the API and the key server, never to storage.
        var storageOrigin = region == Regions.UsVirginia ? Cloud.S3.Url.GetLeftPart(UriPartial.Authority) : Origin(Cloud.Azurite.Account(region).BlobEndpoint);
        var storage = requests.Where(r => r.Url.StartsWith(storageOrigin, StringComparison.Ordinal)).ToList();
        var keys = requests.Where(r => r.Url.StartsWith(Origin(Cloud.KeyServerUrl) + "/v1/keys/", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(storage);
        Assert.NotEmpty(keys);
        foreach (var request in storage)
        {
            Assert.False((await request.AllHeadersAsync()).ContainsKey("authorization"), $"token sent to storage: {request.Url}");
        }

        foreach (var request in keys)
        {
            Assert.StartsWith("Bearer ", (await request.AllHeadersAsync())["authorization"], StringComparison.Ordinal);
        }

        Assert.DoesNotContain(errors, e => e.Contains("Content Security Policy", StringComparison.Ordinal));
    }

    [Fact]
    public async Task NewOperator_EnrolsAnAuthenticatorWithTheQrCode_GetsRecoveryCodes_AndSignsOut()
    {
        using var tenant = await StackTenant.CreateAsync(Cloud, Regions.EuFrankfurt);
        (await tenant.Administrator.PutAsJsonAsync("/api/organization/policy", new OrganizationPolicyRequest(RequireTwoFactorForAll: true))).EnsureSuccessStatusCode();
        var user = new TestUser(Guid.Empty, $"operator-{Guid.NewGuid():N}@stack.test", TestTenant.NewPassword(), Roles.Operator);
        (await tenant.Administrator.PostAsJsonAsync("/api/users", new CreateUserRequest(user.Email, user.Role, user.Password))).EnsureSuccessStatusCode();
        await using var context = await browser.Browser.NewContextAsync();
        var page = await context.NewPageAsync();

        await page.GotoAsync(Cloud.PlayerUrl.ToString());
        await page.FillAsync("input[type=email]", user.Email);
        await page.FillAsync("input[type=password]", user.Password);
        await page.ClickAsync("main button[type=submit]");
        await ExpectAsync(page, "img.qr");
        var qr = await page.GetAttributeAsync("img.qr", "src");
        var key = (await page.InnerTextAsync("code.secret")).Trim();
        await page.FillAsync("input[autocomplete=one-time-code]", Totp.Code(key, TimeProvider.System.GetUtcNow()));
        await page.ClickAsync("main button[type=submit]");
        await ExpectAsync(page, "ul.recovery-codes");
        var codes = await page.Locator("ul.recovery-codes li").AllInnerTextsAsync();
        await page.ClickAsync("a.button");
        var heading = await page.InnerTextAsync("h1");
        var cookies = await context.CookiesAsync();

        Assert.StartsWith("data:image/svg+xml;base64,", qr, StringComparison.Ordinal);
        Assert.Equal(10, codes.Count);
        Assert.Equal("Cameras", heading);
        var session = Assert.Single(cookies, c => c.Name == "__Host-cloudstore-session");
        Assert.True(session.HttpOnly && session.Secure);
        Assert.Equal(SameSiteAttribute.Strict, session.SameSite);

        // The page's scripts get short-lived tokens; after sign-out they get nothing.
        Assert.Equal(200, await TokenStatusAsync(page));
        await page.ClickAsync("form.sign-out button");
        Assert.Contains("You are signed out", await page.InnerTextAsync("main"), StringComparison.Ordinal);
        Assert.Equal(401, await TokenStatusAsync(page));
        await page.GotoAsync(Cloud.PlayerUrl.ToString());
        Assert.Contains("/sign-in", page.Url, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Viewer_SeesTheCameraButIsToldPlayingNeedsAnotherRole()
    {
        using var tenant = await StackTenant.CreateAsync(Cloud, Regions.EuFrankfurt);
        using var camera = await tenant.AddCameraAsync();
        var viewer = new TestUser(Guid.Empty, $"viewer-{Guid.NewGuid():N}@stack.test", TestTenant.NewPassword(), Roles.Viewer);
        (await tenant.Administrator.PostAsJsonAsync("/api/users", new CreateUserRequest(viewer.Email, viewer.Role, viewer.Password))).EnsureSuccessStatusCode();
        using (var api = new HttpClient(TrustedHttp.CreateHandler(Cloud.Certificates.CaCertificate)) { BaseAddress = Cloud.FunctionsUrl })
        {
            await SignInFlow.SignInAsync(api, viewer, TimeProvider.System); // enrols the authenticator, as the phone would
        }

        await using var context = await browser.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(Cloud.PlayerUrl, $"cameras/{camera.CameraId}").ToString());
        await SignInAsync(page, viewer);

        Assert.Contains("viewer", await page.InnerTextAsync("p.message"), StringComparison.Ordinal);
        Assert.Equal(0, await page.Locator("video").CountAsync());
    }

    /// <summary>Signs in on the page shown: password, then (when the user has an authenticator) its current code.</summary>
    static async Task SignInAsync(IPage page, TestUser user)
    {
        await page.FillAsync("input[type=email]", user.Email);
        await page.FillAsync("input[type=password]", user.Password);
        await page.ClickAsync("main button[type=submit]");
        if (user.AuthenticatorKey is { } key)
        {
            await page.FillAsync("input[autocomplete=one-time-code]", Totp.Code(key, TimeProvider.System.GetUtcNow()));
            await page.ClickAsync("main button[type=submit]");
        }

        if (await page.Locator("form.sign-out").CountAsync() == 0)
        {
            Assert.Fail($"Not signed in; the page ({page.Url}) says: {await page.InnerTextAsync("body")}");
        }
    }

    /// <summary>Waits for <paramref name="selector"/>; when it does not come, fails with what the page says instead.</summary>
    static async Task ExpectAsync(IPage page, string selector)
    {
        try
        {
            await page.Locator(selector).First.WaitForAsync(new() { Timeout = 10_000 });
        }
        catch (TimeoutException)
        {
            Assert.Fail($"No {selector} on {page.Url}; the page says: {await page.InnerTextAsync("body")}");
        }
    }

    static Task<int> TokenStatusAsync(IPage page) =>
        page.EvaluateAsync<int>("async () => (await fetch('/session/token?audience=cloudstore-keyserver')).status");

    static Task<double> CurrentTimeAsync(IPage page) => page.EvalOnSelectorAsync<double>("#video", "v => v.currentTime");

    /// <summary>Brightness range of the shown frame, drawn small into a canvas: 0 for a blank frame.</summary>
    static Task<int> FrameContrastAsync(IPage page) => page.EvalOnSelectorAsync<int>("#video", """
        v => {
          const c = document.createElement('canvas');
          c.width = 64; c.height = 36;
          const g = c.getContext('2d');
          g.drawImage(v, 0, 0, 64, 36);
          const d = g.getImageData(0, 0, 64, 36).data;
          let min = 255, max = 0;
          for (let i = 0; i < d.length; i += 4) {
            const y = (d[i] + d[i + 1] + d[i + 2]) / 3;
            min = Math.min(min, y); max = Math.max(max, y);
          }
          return Math.round(max - min);
        }
        """);

    /// <summary>The wall-clock moment the player shows (from the playlist's program date-times), once it satisfies <paramref name="condition"/>.</summary>
    async Task<DateTimeOffset> WaitForPlayingAsync(IPage page, Func<DateTimeOffset, bool> condition, string what, int seconds = 20)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(seconds);
        string? last = null;
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            last = await page.GetAttributeAsync("#player", "data-playing");
            if (last is not null && condition(DateTimeOffset.Parse(last, CultureInfo.InvariantCulture)))
            {
                return DateTimeOffset.Parse(last, CultureInfo.InvariantCulture);
            }

            await Task.Delay(50);
        }

        throw new TimeoutException(
            $"Waited {seconds} s for {what}; the player shows {last ?? "nothing"}; message: {await page.InnerTextAsync("#message")}; " +
            $"browser: {string.Join(" | ", _diagnostics.TakeLast(40))}");
    }

    /// <summary>Clicks the timeline where <paramref name="time"/> is drawn; returns the moment the click stands for.</summary>
    static async Task<DateTimeOffset> ClickTimelineAsync(IPage page, DateTimeOffset time)
    {
        var timeline = page.Locator("#timeline");
        var start = DateTimeOffset.Parse((await timeline.GetAttributeAsync("data-start"))!, CultureInfo.InvariantCulture);
        var end = DateTimeOffset.Parse((await timeline.GetAttributeAsync("data-end"))!, CultureInfo.InvariantCulture);
        var box = (await timeline.BoundingBoxAsync())!;
        Assert.InRange(time, start, end);
        var x = Math.Round((time - start) / (end - start) * box.Width);
        await timeline.ClickAsync(new() { Position = new() { X = (float)x, Y = box.Height / 4 } });
        return start + (end - start) * (x / box.Width);
    }

    /// <summary>
    /// Uploads the source video as two recordings with a gap between them, as a camera that lost power
    /// would leave: the first two segments, then the rest <see cref="Gap"/> later. All in the past.
    /// </summary>
    async Task<(Guid CameraId, (DateTimeOffset Start, DateTimeOffset End) First, (DateTimeOffset Start, DateTimeOffset End) Second)> RecordWithGapAsync(StackTenant tenant)
    {
        var shiftFirst = -Gap - TimeSpan.FromMinutes(1);
        var shiftRest = -TimeSpan.FromMinutes(1);
        var folder = Path.GetDirectoryName(video.Playlist)!;
        var playlist = Path.Combine(folder, $"gap-{Guid.NewGuid():N}.m3u8");
        var index = 0;
        var lines = (await File.ReadAllLinesAsync(video.Playlist)).Select(line =>
        {
            if (!line.StartsWith("#EXT-X-PROGRAM-DATE-TIME:", StringComparison.Ordinal))
            {
                return line;
            }

            var time = DateTimeOffset.Parse(line["#EXT-X-PROGRAM-DATE-TIME:".Length..], CultureInfo.InvariantCulture);
            var shifted = time + (index++ < 2 ? shiftFirst : shiftRest);
            return "#EXT-X-PROGRAM-DATE-TIME:" + shifted.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        });
        await File.WriteAllLinesAsync(playlist, lines);

        using var camera = await tenant.AddCameraAsync();
        using (var uploader = UploadTestKit.Uploader(Cloud, camera, Path.Combine(_work, camera.CameraId.ToString("N"))))
        {
            await uploader.RunAsync(new VideoSource.Folder(playlist), new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);
        }

        File.Delete(playlist);
        var segments = video.Segments;
        var firstEnd = segments[1].StartTime + segments[1].Duration;
        var lastEnd = segments[^1].StartTime + segments[^1].Duration;
        return (camera.CameraId,
            (segments[0].StartTime + shiftFirst, firstEnd + shiftFirst),
            (segments[2].StartTime + shiftRest, lastEnd + shiftRest));
    }

    static string Origin(Uri url) => url.GetLeftPart(UriPartial.Authority);

    static string Utc(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
