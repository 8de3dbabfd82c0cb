using System.Globalization;
using System.Text.RegularExpressions;
using CloudStore.Contracts;
using CloudStore.Device.Media;
using CloudStore.LocalStack;
using CloudStore.Tests.Infrastructure;
using CloudStore.Tests.Upload;
using Xunit;

namespace CloudStore.Tests.Browser;

/// <summary>
/// Live view in Chromium against the real stack, with a camera recording in real time (ffmpeg, 2-second segments)
/// while the page plays: a viewer's page is live only and follows the camera a segment or two behind; an operator
/// switches to Live and back to recordings.
/// </summary>
public sealed class LiveViewPageTests(BrowserFixture browser) : IClassFixture<BrowserFixture>, IDisposable
{
    /// <summary>
    /// How far behind the camera live may play: the segment being recorded (2 s), upload and indexing, one playlist
    /// reload (2 s) and the one segment hls.js stays behind the newest (2 s), with a margin for a loaded machine.
    /// </summary>
    static readonly TimeSpan MaxLatency = TimeSpan.FromSeconds(10);

    readonly string _work = Directory.CreateTempSubdirectory("cloudstore-live-page-").FullName;

    LocalCloud Cloud => browser.Stack.Cloud;

    [Fact]
    public async Task Viewer_SeesOnlyLive_FollowingTheCameraASegmentOrTwoBehind()
    {
        using var tenant = await StackTenant.CreateAsync(Cloud, Regions.EuFrankfurt);
        using var recording = await RecordingAsync(tenant);
        var viewer = await tenant.AddUserAsync(Roles.Viewer);
        using (var api = new HttpClient(TrustedHttp.CreateHandler(Cloud.Certificates.CaCertificate)) { BaseAddress = Cloud.FunctionsUrl })
        {
            await SignInFlow.SignInAsync(api, viewer, TimeProvider.System); // enrols the authenticator, as the phone would
        }

        await using var context = await browser.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
        var page = await context.NewPageAsync();
        var keyRequests = new System.Collections.Concurrent.ConcurrentQueue<string>();
        page.Request += (_, request) =>
        {
            if (request.Url.StartsWith(Cloud.KeyServerUrl.GetLeftPart(UriPartial.Authority) + "/v1/keys/", StringComparison.Ordinal))
            {
                keyRequests.Enqueue(request.Url);
            }
        };
        var diagnostics = PlayerPage.Diagnostics(page);
        await page.GotoAsync(new Uri(Cloud.PlayerUrl, $"cameras/{recording.CameraId}").ToString());
        await PlayerPage.SignInAsync(page, viewer);
        await PlayerPage.ExpectAsync(page, "#player[data-mode=live]");

        var first = await PlayerPage.WaitForPlayingAsync(page, t => TimeProvider.System.GetUtcNow() - t < MaxLatency, "playing live", diagnostics, seconds: 40);
        var later = await PlayerPage.WaitForPlayingAsync(page, t => t - first >= TimeSpan.FromSeconds(6), "live playback moving on with the camera", diagnostics, seconds: 30);
        Assert.True(TimeProvider.System.GetUtcNow() - later < MaxLatency, $"playing {later:O}, {TimeProvider.System.GetUtcNow() - later} behind");
        Assert.True(await PlayerPage.FrameContrastAsync(page) > 40, "the frame shown is blank");
        Assert.True(await page.IsVisibleAsync("#live-badge"));
        Assert.Equal(0, await page.Locator("#timeline").CountAsync());
        Assert.Equal(0, await page.Locator("#export").CountAsync());
        Assert.Equal(0, await page.Locator("#jump").CountAsync());
        await Screenshots.TakeAsync(page, "camera-live-viewer");

        // The grant came from the playlist's tag for the key, into the key request; the key URI stays the same across
        // reloads (only the tag's grant is new), so the page asked for each data key once, not at every reload.
        Assert.NotEmpty(keyRequests);
        Assert.All(keyRequests, url => Assert.Matches("/v1/keys/[0-9a-f]{32}\\?wrapped=[A-Za-z0-9_-]+&grant=[A-Za-z0-9_.-]+$", url));
        Assert.Equal(keyRequests.Count, keyRequests.Select(url => url.Split('?')[0]).Distinct().Count());
    }

    [Fact]
    public async Task Operator_GoesLive_ThenBackToARecordedMoment()
    {
        using var tenant = await StackTenant.CreateAsync(Cloud, Regions.EuFrankfurt);
        using var recording = await RecordingAsync(tenant);
        await using var context = await browser.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
        var page = await context.NewPageAsync();
        var diagnostics = PlayerPage.Diagnostics(page);
        await page.GotoAsync(new Uri(Cloud.PlayerUrl, "/sign-in").ToString());
        await PlayerPage.SignInAsync(page, tenant.AdministratorUser);
        await page.GotoAsync(new Uri(Cloud.PlayerUrl, $"/cameras/{recording.CameraId}").ToString());
        await PlayerPage.ExpectAsync(page, "#player[data-ready]");
        var recorded = await PlayerPage.WaitForPlayingAsync(page, _ => true, "playing the last minute", diagnostics, seconds: 30);

        await page.ClickAsync("#live");
        await PlayerPage.ExpectAsync(page, "#player[data-mode=live]");
        await PlayerPage.WaitForPlayingAsync(page, t => TimeProvider.System.GetUtcNow() - t < MaxLatency && t > recorded, "playing live", diagnostics, seconds: 40);
        Assert.Equal("true", await page.GetAttributeAsync("#live", "aria-pressed"));
        await Screenshots.TakeAsync(page, "camera-live");

        // Back to the first seconds the camera recorded, from the timeline's "Go to", once they are well behind live.
        var start = recording.Started.AddSeconds(1);
        var behindLive = start + MaxLatency + TimeSpan.FromSeconds(8) - TimeProvider.System.GetUtcNow();
        if (behindLive > TimeSpan.Zero)
        {
            await Task.Delay(behindLive);
        }

        await page.FillAsync("#jump-at", start.UtcDateTime.ToString(start.Second == 0 ? "yyyy-MM-dd'T'HH:mm" : "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture));
        await page.ClickAsync("#jump button[type=submit]");
        await PlayerPage.ExpectAsync(page, "#player[data-mode=recordings]");
        var back = await PlayerPage.WaitForPlayingAsync(page, t => t >= start - TimeSpan.FromSeconds(2) && t < start + TimeSpan.FromSeconds(4), "playing the recorded moment", diagnostics);
        Assert.True(TimeProvider.System.GetUtcNow() - back > MaxLatency, $"still live at {back:O}");
        Assert.False(await page.IsVisibleAsync("#live-badge"));
    }

    /// <summary>
    /// A camera recording test video in real time (2-second segments) until disposed, once its first few segments are
    /// indexed.
    /// </summary>
    async Task<LiveRecording> RecordingAsync(StackTenant tenant)
    {
        var camera = await tenant.AddCameraAsync();
        var uploader = UploadTestKit.Uploader(Cloud, camera, Path.Combine(_work, camera.CameraId.ToString("N")));
        var stop = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        var started = TimeProvider.System.GetUtcNow();
        var running = uploader.RunAsync(new VideoSource.Generated(Duration: TimeSpan.FromMinutes(3)), stop.Token);
        var deadline = started.AddSeconds(45);
        while (Regex.Count(await tenant.Administrator.GetStringAsync($"/api/cameras/{camera.CameraId}/live.m3u8"), "#EXTINF:") < 3)
        {
            Assert.False(running.IsCompleted, $"the camera stopped: {running.Exception?.GetBaseException().Message}");
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, "the camera's first segments were not indexed within 45 s");
            await Task.Delay(500);
        }

        return new LiveRecording(camera.CameraId, started, () =>
        {
            stop.Cancel();
            try
            {
                running.Wait(TimeSpan.FromSeconds(30));
            }
            catch (AggregateException e) when (e.InnerExceptions.All(i => i is OperationCanceledException))
            {
                // Stopped, as asked.
            }

            uploader.Dispose();
            camera.Dispose();
            stop.Dispose();
        });
    }

    sealed record LiveRecording(Guid CameraId, DateTimeOffset Started, Action Stop) : IDisposable
    {
        public void Dispose() => Stop();
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
