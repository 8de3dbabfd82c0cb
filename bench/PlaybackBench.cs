using System.Globalization;
using System.Text.Json;
using CloudStore.Contracts;
using CloudStore.Device;
using CloudStore.Device.Media;
using CloudStore.Device.Upload;
using CloudStore.LocalStack;
using CloudStore.Testing;
using Microsoft.Playwright;

namespace CloudStore.Bench;

/// <summary>
/// Time to first frame in the web player, end to end on the local stack: Debian's Chromium opens a
/// camera page (page, hls.js, token, playlist, key from the key server, segments from Azurite,
/// decryption, decoding) and the time from navigation start to the first frame shown is read from the
/// player's own User Timing mark. Then seeks: a click on the timeline to the next frame presented.
/// </summary>
public static class PlaybackBench
{
    const int Runs = 7;

    public static async Task RunAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var cancellationToken = timeout.Token;
        var state = Directory.CreateTempSubdirectory("cloudstore-bench-").FullName;
        try
        {
            await using var stack = await LocalCloud.StartAsync(new LocalCloudOptions(state, PersistentStorage: false), cancellationToken);
            var (account, recorded) = await RecordAsync(stack, state, cancellationToken);
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await LocalChromium.LaunchAsync(playwright, stack.Certificates.ServerCertificate);
            var page = await browser.NewPageAsync();
            await SignInAsync(page, stack, account);

            var opens = new List<TimeSpan>();
            for (var i = 0; i <= Runs; i++)
            {
                var at = recorded.AddSeconds(5 + (4 * i)).ToString("O", CultureInfo.InvariantCulture);
                await page.GotoAsync(new Uri(stack.PlayerUrl, $"cameras/{account.CameraIds[0]}?at={Uri.EscapeDataString(at)}").ToString());
                await page.WaitForFunctionAsync("() => performance.getEntriesByName('cloudstore:first-frame').length > 0", null, new() { Timeout = 30_000 });
                opens.Add(TimeSpan.FromMilliseconds(await page.EvaluateAsync<double>("() => performance.getEntriesByName('cloudstore:first-frame')[0].startTime")));
            }

            Bench.Report("Player: open a camera page to first frame, cold", opens[0], "new browser cache: hls.js, keys, first playlist");
            Bench.Report("Player: open a camera page to first frame, warm", Median(opens.Skip(1)), "target < 1 s good, < 500 ms very good");

            await page.ClickAsync("#view-hour");
            var seeks = new List<TimeSpan>();
            for (var i = 0; i < Runs; i++)
            {
                // Alternate between the start and the end of the recording, so most seeks leave the buffer.
                var target = recorded.AddSeconds(i % 2 == 0 ? 50 : 6).ToUnixTimeMilliseconds();
                seeks.Add(TimeSpan.FromMilliseconds(await page.EvaluateAsync<double>(SeekScript, target)));
            }

            Bench.Report("Player: seek on the timeline to next frame shown", Median(seeks), "within the loaded playlist");
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    /// <summary>Clicks the timeline at <c>target</c> (ms since the epoch); resolves with the milliseconds until the next frame is presented after the seek.</summary>
    const string SeekScript = """
        async (target) => {
          const video = document.getElementById('video');
          const canvas = document.getElementById('timeline');
          const start = Date.parse(canvas.dataset.start), end = Date.parse(canvas.dataset.end);
          const box = canvas.getBoundingClientRect();
          const seeked = new Promise((resolve) => video.addEventListener('seeked', resolve, { once: true }));
          const t0 = performance.now();
          canvas.dispatchEvent(new MouseEvent('click', { bubbles: true, clientX: box.left + ((target - start) / (end - start)) * box.width, clientY: box.top + 4 }));
          await seeked;
          await new Promise((resolve) => video.requestVideoFrameCallback(resolve));
          return performance.now() - t0;
        }
        """;

    /// <summary>The demo organisation with one minute of generated video (cut faster than real time) uploaded by its first camera.</summary>
    static async Task<(DemoAccount Account, DateTimeOffset Start)> RecordAsync(LocalCloud stack, string state, CancellationToken cancellationToken)
    {
        var cameraFolder = Path.Combine(state, "camera");
        using var deviceKey = DeviceKey.LoadOrCreate(Path.Combine(cameraFolder, "device-key.pem"));
        using var deviceHttp = new HttpClient(TrustedHttp.CreateHandler(stack.Certificates.CaCertificate)) { BaseAddress = new Uri(stack.FunctionsUrl, "/api/") };
        var device = new DeviceClient(deviceHttp, deviceKey, TimeProvider.System);
        var identityFile = Path.Combine(cameraFolder, "device.json");
        var account = await Demo.EnsureDemoAccountAsync(stack, device, identityFile, cancellationToken);
        var identity = JsonSerializer.Deserialize<DeviceIdentity>(await File.ReadAllTextAsync(identityFile, cancellationToken))!;
        var playlist = await Ffmpeg.SegmentToFolderAsync(
            new VideoSource.Generated(Duration: TimeSpan.FromMinutes(1), RealTime: false), Path.Combine(state, "video"), TimeSpan.FromSeconds(4), cancellationToken);
        var start = HlsFolder.ReadCompleted(playlist)[0].StartTime;
        using var storage = TrustedHttp.CreateHandler(stack.Certificates.CaCertificate);
        using var uploader = new CameraUploader(device, identity, new UploaderOptions
        {
            CameraId = account.CameraIds[0],
            CacheFolder = Path.Combine(cameraFolder, "cache"),
        }, storage, TimeProvider.System);
        await uploader.RunAsync(new VideoSource.Folder(playlist), cancellationToken);
        return (account, start);
    }

    static async Task SignInAsync(IPage page, LocalCloud stack, DemoAccount account)
    {
        await page.GotoAsync(stack.PlayerUrl.ToString());
        await page.FillAsync("input[type=email]", account.AdministratorEmail);
        await page.FillAsync("input[type=password]", account.AdministratorPassword);
        await page.ClickAsync("main button[type=submit]");
        // A code is accepted once and the demo's set-up may have just used the current one: the next step's code is
        // accepted within the server's one step of drift.
        await page.FillAsync("input[autocomplete=one-time-code]", Totp.Code(account.AuthenticatorKey, TimeProvider.System.GetUtcNow().AddSeconds(30)));
        await page.ClickAsync("main button[type=submit]");
        await page.WaitForSelectorAsync("form.sign-out");
    }

    static TimeSpan Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
