using System.Diagnostics;
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
/// Export as an operator makes it, in Chromium against the real stack: a typed UTC range becomes one MP4 decrypted in
/// the browser, whose frames ffmpeg decodes to exactly the recorded frames of that range; with a password, a ZIP that
/// Debian's 7-Zip opens with that password only. Each export is in the audit log.
/// </summary>
public sealed class ExportTests(BrowserFixture browser, SourceVideoFixture video) : IClassFixture<BrowserFixture>, IClassFixture<SourceVideoFixture>, IDisposable
{
    readonly string _work = Directory.CreateTempSubdirectory("cloudstore-export-").FullName;

    LocalCloud Cloud => browser.Stack.Cloud;

    [Fact]
    public async Task Export_ARangeOfThreeSegments_IsOneMp4_WithExactlyTheRecordedFrames_AndAudited()
    {
        using var tenant = await StackTenant.CreateAsync(Cloud, Regions.EuFrankfurt);
        var cameraId = await RecordAsync(tenant);
        var chosen = video.Segments.Skip(1).Take(3).ToList();
        var page = await OpenCameraAsync(tenant, cameraId);

        var file = await ExportAsync(page, CeilingSecond(chosen[0].StartTime), FloorSecond(chosen[^1].StartTime + chosen[^1].Duration), password: null);

        Assert.EndsWith(".mp4", file.Name, StringComparison.Ordinal);
        Assert.Contains($"_{chosen[0].StartTime.UtcDateTime:yyyyMMdd-HHmmss}Z_", file.Name, StringComparison.Ordinal);
        Assert.Equal(await Frames.HashesAsync(await Frames.SourceClipAsync(chosen, _work)), await Frames.HashesAsync(file.Path));
        var exports = await tenant.Administrator.GetFromJsonAsync<List<AuditEntryResponse>>("/api/audit?action=recordings.exported");
        var entry = Assert.Single(exports!);
        Assert.Equal($"camera:{cameraId}", entry.Target);
        Assert.Equal($"user:{(await tenant.Administrator.GetFromJsonAsync<UserResponse>("/api/me"))!.Id}", entry.Actor);
    }

    [Fact]
    public async Task Export_WithAPassword_IsAnAes256Zip_That7ZipOpensWithThatPasswordOnly()
    {
        using var tenant = await StackTenant.CreateAsync(Cloud, Regions.EuFrankfurt);
        var cameraId = await RecordAsync(tenant);
        var chosen = video.Segments.Take(2).ToList();
        var page = await OpenCameraAsync(tenant, cameraId);
        const string password = "correct horse battery";

        var file = await ExportAsync(page, CeilingSecond(chosen[0].StartTime), FloorSecond(chosen[^1].StartTime + chosen[^1].Duration), password);

        Assert.EndsWith(".zip", file.Name, StringComparison.Ordinal);
        var wrong = await SevenZipAsync("x", "-pnot the password", $"-o{Path.Combine(_work, "wrong")}", file.Path);
        var right = await SevenZipAsync("x", $"-p{password}", $"-o{Path.Combine(_work, "right")}", file.Path);
        var listing = await SevenZipAsync("l", "-slt", $"-p{password}", file.Path);
        Assert.NotEqual(0, wrong.ExitCode);
        Assert.True(right.ExitCode == 0, right.Output);
        Assert.Contains("AES-256", listing.Output, StringComparison.Ordinal);
        var extracted = Assert.Single(Directory.GetFiles(Path.Combine(_work, "right")));
        Assert.Equal(await Frames.HashesAsync(await Frames.SourceClipAsync(chosen, _work)), await Frames.HashesAsync(extracted));
    }

    async Task<IPage> OpenCameraAsync(StackTenant tenant, Guid cameraId)
    {
        var context = await browser.Browser.NewContextAsync(new() { AcceptDownloads = true, ViewportSize = new() { Width = 1280, Height = 800 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(Cloud.PlayerUrl, "/sign-in").ToString());
        await PlayerPage.SignInAsync(page, tenant.AdministratorUser);
        await page.GotoAsync(new Uri(Cloud.PlayerUrl, $"/cameras/{cameraId}").ToString());
        await PlayerPage.ExpectAsync(page, "#player[data-ready]");
        return page;
    }

    async Task<(string Name, string Path)> ExportAsync(IPage page, DateTimeOffset from, DateTimeOffset to, string? password)
    {
        await page.ClickAsync("#export summary");
        await page.FillAsync("#export-from", Local(from));
        await page.FillAsync("#export-to", Local(to));
        if (password is not null)
        {
            await page.FillAsync("#export-password", password);
        }

        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("#export-start"), new() { Timeout = 60_000 });
        var path = Path.Combine(_work, download.SuggestedFilename);
        await download.SaveAsAsync(path);
        Assert.StartsWith("Exported", await page.InnerTextAsync("#export-status"), StringComparison.Ordinal);
        await Screenshots.TakeAsync(page, password is null ? "camera-export" : "camera-export-zip");
        return (download.SuggestedFilename, path);
    }

    /// <summary>
    /// The panel takes whole seconds, and exports every segment the range touches: a range from just inside the first
    /// chosen segment to just inside the last touches those and no neighbour (segments are 2 s long).
    /// </summary>
    static DateTimeOffset CeilingSecond(DateTimeOffset time) => FloorSecond(time) == time ? time : FloorSecond(time).AddSeconds(1);

    static DateTimeOffset FloorSecond(DateTimeOffset time) => new(time.Ticks - (time.Ticks % TimeSpan.TicksPerSecond), time.Offset);

    /// <summary>A datetime-local value (UTC, the panel says so) to the second; the input drops ":00" seconds.</summary>
    static string Local(DateTimeOffset time) =>
        time.UtcDateTime.ToString(time.Second == 0 ? "yyyy-MM-dd'T'HH:mm" : "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);

    async Task<Guid> RecordAsync(StackTenant tenant)
    {
        using var camera = await tenant.AddCameraAsync();
        using var uploader = UploadTestKit.Uploader(Cloud, camera, Path.Combine(_work, camera.CameraId.ToString("N")));
        await uploader.RunAsync(new VideoSource.Folder(video.Playlist), new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);
        return camera.CameraId;
    }

    static Task<(int ExitCode, string Output)> SevenZipAsync(params string[] arguments) => RunAsync("7zz", ["-y", .. arguments]);

    static async Task<(int ExitCode, string Output)> RunAsync(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output + await errors);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
