using System.Globalization;
using System.Net.Http.Json;
using CloudStore.Contracts;
using CloudStore.Device.Media;
using CloudStore.LocalStack;
using CloudStore.Tests.Infrastructure;
using CloudStore.Tests.Upload;
using Xunit;

namespace CloudStore.Tests.Browser;

/// <summary>
/// Tamper detection as an operator meets it, in Debian's Chromium against the real stack: one byte of one stored file
/// is changed behind the service's back (with the storage account's key, or in the S3 server's files), as someone with
/// write access to storage could. The player checks every file's SHA-256 against the index's before decrypting it, so
/// the changed file is never decoded or shown, the page names its UTC range, playback goes on after it, and the audit
/// log has the event.
/// </summary>
public sealed class TamperDetectionTests(BrowserFixture browser, SourceVideoFixture video)
    : IClassFixture<BrowserFixture>, IClassFixture<SourceVideoFixture>, IDisposable
{
    /// <summary>Records what the video element presents: each frame's media time (requestVideoFrameCallback), from before any page script runs.</summary>
    const string FrameRecorder = """
        window.cloudstoreFrames = [];
        document.addEventListener('DOMContentLoaded', () => {
          const video = document.getElementById('video');
          if (!video) return;
          const step = (now, frame) => { window.cloudstoreFrames.push(frame.mediaTime); video.requestVideoFrameCallback(step); };
          video.requestVideoFrameCallback(step);
        });
        """;

    readonly string _work = Directory.CreateTempSubdirectory("cloudstore-tamper-").FullName;

    LocalCloud Cloud => browser.Stack.Cloud;

    /// <summary>
    /// Azure and S3 storage, the altered segment in the middle of the recording; then (Azure) the first segment, where the
    /// requested moment lies in the altered range, and the last, after which nothing is left to play.
    /// </summary>
    public static TheoryData<string, int> Cases => new() { { Regions.EuFrankfurt, 2 }, { Regions.UsVirginia, 2 }, { Regions.EuFrankfurt, 0 }, { Regions.EuFrankfurt, 4 } };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task OneByteFlippedInAStoredSegment_NotDecodedOrShown_PageNamesItsRange_PlaysOn_Audited(string region, int position)
    {
        using var tenant = await StackTenant.CreateAsync(Cloud, region);
        var cameraId = await RecordAsync(tenant);
        var inspector = new RegionInspector(Cloud, region);
        var segments = (await inspector.SegmentsAsync(cameraId)).OrderBy(s => s.StartTime).ToList();
        Assert.Equal(video.Segments.Count, segments.Count);
        var altered = segments[position];
        var alteredEnd = altered.StartTime.AddMilliseconds(altered.DurationMs);
        await inspector.FlipByteAsync(cameraId, altered.ObjectName, (int)(altered.Size / 2));

        await using var context = await browser.Browser.NewContextAsync();
        await context.AddInitScriptAsync(FrameRecorder);
        var page = await context.NewPageAsync();
        var requests = new System.Collections.Concurrent.ConcurrentQueue<string>();
        page.Request += (_, request) => requests.Enqueue(request.Url);
        var diagnostics = PlayerPage.Diagnostics(page);
        await page.GotoAsync(new Uri(Cloud.PlayerUrl, $"cameras/{cameraId}?at={Uri.EscapeDataString(Iso(segments[0].StartTime))}").ToString());
        await PlayerPage.SignInAsync(page, tenant.AdministratorUser);

        // The page names the altered range and the API took the report; playback goes on past it (to the last segment,
        // or, when the last one is altered, to the end of the one before it).
        var named = page.Locator("#altered-ranges li[data-reported=true]");
        await named.WaitForAsync(new() { Timeout = 30_000 });
        var last = position == segments.Count - 1 ? segments[^2] : segments[^1];
        await PlayerPage.WaitForPlayingAsync(page, t => t >= last.StartTime.AddMilliseconds(last.DurationMs / 2), "playing on past the altered segment", diagnostics, seconds: 30);
        await Task.Delay(3000); // time for hls.js to have fetched the altered segment again and again, had it gone round a loop

        Assert.True(await page.IsVisibleAsync("#altered"));
        Assert.Equal(1, await page.Locator("#altered-ranges li").CountAsync());
        Assert.Equal((Iso(altered.StartTime), Iso(alteredEnd), "segment"), (await named.GetAttributeAsync("data-from"), await named.GetAttributeAsync("data-to"), await named.GetAttributeAsync("data-part")));
        Assert.Equal($"{Utc(altered.StartTime)} – {Utc(alteredEnd)[11..]} UTC", await named.InnerTextAsync());
        Assert.InRange(requests.Count(url => url.Contains(altered.ObjectName, StringComparison.Ordinal)), 1, 3);
        Assert.True(position == segments.Count - 1 || await page.InnerTextAsync("#message") == "", await page.InnerTextAsync("#message"));

        // Never decoded: nothing of it reached the media buffer. Never shown: no presented frame from its media time,
        // while frames before it and after it were. The playlist starts at the first segment, so media time is the
        // recording's time since then.
        var mediaStart = (altered.StartTime - segments[0].StartTime).TotalSeconds;
        var mediaEnd = (alteredEnd - segments[0].StartTime).TotalSeconds;
        var buffered = await page.EvalOnSelectorAsync<double[][]>("#video", "v => Array.from({ length: v.buffered.length }, (_, i) => [v.buffered.start(i), v.buffered.end(i)])");
        var frames = await page.EvaluateAsync<double[]>("() => window.cloudstoreFrames");
        Assert.DoesNotContain(buffered, range => range[0] < mediaEnd - 0.3 && range[1] > mediaStart + 0.3);
        Assert.DoesNotContain(frames, t => t > mediaStart + 0.1 && t < mediaEnd - 0.1);
        Assert.True(position == 0 || (buffered.Any(range => range[0] < mediaStart - 0.5) && frames.Any(t => t < mediaStart)), "the segments before it played");
        Assert.True(position == segments.Count - 1 || (buffered.Any(range => range[1] > mediaEnd + 0.5) && frames.Any(t => t > mediaEnd)), "the segments after it played");

        // Audited once, naming the camera, the segment and its range; the index marks the file.
        var audit = await tenant.Administrator.GetFromJsonAsync<List<AuditEntryResponse>>("/api/audit?action=recordings.tamper-detected");
        var entry = Assert.Single(audit!);
        Assert.StartsWith("user:", entry.Actor, StringComparison.Ordinal);
        Assert.Equal($"camera:{cameraId}", entry.Target);
        Assert.Equal($"failure:segment-altered;seq={altered.Sequence};{Iso(altered.StartTime)}/{Iso(alteredEnd)}", entry.Outcome);
        Assert.Equal([altered.Sequence], (await inspector.SegmentsAsync(cameraId)).Where(s => s.TamperReportedAt is not null).Select(s => s.Sequence));
        Assert.DoesNotContain(diagnostics, e => e.Contains("Content Security Policy", StringComparison.Ordinal));
    }

    [Fact]
    public async Task OneByteFlippedInTheInitSegment_NoneOfItsSegmentsDecoded_PageNamesTheWholeRange_Audited_NoRequestLoop()
    {
        using var tenant = await StackTenant.CreateAsync(Cloud, Regions.EuFrankfurt);
        var cameraId = await RecordAsync(tenant);
        var inspector = new RegionInspector(Cloud, Regions.EuFrankfurt);
        var segments = (await inspector.SegmentsAsync(cameraId)).OrderBy(s => s.StartTime).ToList();
        var init = Assert.Single(segments.Select(s => s.InitObjectName).Distinct());
        var end = segments[^1].StartTime.AddMilliseconds(segments[^1].DurationMs);
        await inspector.FlipByteAsync(cameraId, init, 100);

        await using var context = await browser.Browser.NewContextAsync();
        await context.AddInitScriptAsync(FrameRecorder);
        var page = await context.NewPageAsync();
        var initRequests = 0;
        page.Request += (_, request) =>
        {
            if (request.Url.Contains("/init/", StringComparison.Ordinal))
            {
                Interlocked.Increment(ref initRequests);
            }
        };
        var diagnostics = PlayerPage.Diagnostics(page);
        await page.GotoAsync(new Uri(Cloud.PlayerUrl, $"cameras/{cameraId}?at={Uri.EscapeDataString(Iso(segments[0].StartTime))}").ToString());
        await PlayerPage.SignInAsync(page, tenant.AdministratorUser);
        var named = page.Locator("#altered-ranges li[data-reported=true]");
        await named.WaitForAsync(new() { Timeout = 30_000 });
        await Task.Delay(6000); // long enough for hls.js to have gone round a loop, had it one

        Assert.Equal((Iso(segments[0].StartTime), Iso(end), "init"), (await named.GetAttributeAsync("data-from"), await named.GetAttributeAsync("data-to"), await named.GetAttributeAsync("data-part")));
        Assert.Contains("header", await named.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await page.EvalOnSelectorAsync<int>("#video", "v => v.buffered.length"));
        Assert.Empty(await page.EvaluateAsync<double[]>("() => window.cloudstoreFrames"));
        Assert.True(initRequests is >= 1 and <= 3, $"{initRequests} init requests: " + string.Join("\n", diagnostics.Take(60)));
        var entry = Assert.Single((await tenant.Administrator.GetFromJsonAsync<List<AuditEntryResponse>>("/api/audit?action=recordings.tamper-detected"))!);
        Assert.StartsWith($"failure:init-altered;seq={segments[0].Sequence};", entry.Outcome, StringComparison.Ordinal);
        Assert.DoesNotContain(diagnostics, e => e.Contains("Content Security Policy", StringComparison.Ordinal));
    }

    /// <summary>Uploads the fixture's five 2-second segments for a new camera and waits until their time has passed.</summary>
    async Task<Guid> RecordAsync(StackTenant tenant)
    {
        using var camera = await tenant.AddCameraAsync();
        using (var uploader = UploadTestKit.Uploader(Cloud, camera, Path.Combine(_work, camera.CameraId.ToString("N"))))
        {
            await uploader.RunAsync(new VideoSource.Folder(video.Playlist), new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);
        }

        var end = video.Segments[^1].StartTime + video.Segments[^1].Duration;
        var wait = end - TimeProvider.System.GetUtcNow() + TimeSpan.FromMilliseconds(200);
        if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait); // The fixture's video was made faster than real time: its end may lie ahead.
        }

        return camera.CameraId;
    }

    static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    static string Utc(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
