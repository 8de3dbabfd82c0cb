using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using CloudStore.Contracts;
using CloudStore.Device;
using CloudStore.Device.Media;
using CloudStore.Tests.Upload;
using CloudStore.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit;

namespace CloudStore.Tests.Browser;

/// <summary>
/// The administration pages as an administrator uses them on a first day, in Chromium against the real stack: invite a
/// colleague, add a device (its enrolment code shown once) and a camera, enable it with a licence, choose the region,
/// read the audit log and download it. And what a viewer sees: no administration, and the pages refused.
/// Each page is photographed at 1280×800 and at phone width into the screenshots folder (<see cref="Screenshots"/>).
/// </summary>
public sealed partial class AdminPagesTests(BrowserFixture browser, SourceVideoFixture video) : IClassFixture<BrowserFixture>, IClassFixture<SourceVideoFixture>
{
    [Fact]
    public async Task Organisation_NamesAnEnabledCameraThatStoppedUploading()
    {
        var cloud = browser.Stack.Cloud;
        using var tenant = await StackTenant.CreateAsync(cloud, Regions.EuFrankfurt);
        using var camera = await tenant.AddCameraAsync();
        using var idle = await tenant.AddCameraAsync();
        await UploadAsync(camera, shift: TimeSpan.FromMinutes(-30)); // its last recording ended half an hour ago
        await using var context = await browser.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(cloud.PlayerUrl, "/sign-in").ToString());
        await PlayerPage.SignInAsync(page, tenant.AdministratorUser);

        await page.GotoAsync(new Uri(cloud.PlayerUrl, "/admin/organization").ToString());

        var names = (await tenant.Administrator.GetFromJsonAsync<List<CameraOverviewResponse>>("/api/cameras"))!.ToDictionary(c => c.Id, c => c.Name);
        var stopped = await page.Locator("li[data-kind=camera-stopped]").AllInnerTextsAsync();
        Assert.Single(stopped, notice => notice.Contains($"{names[camera.CameraId]} stopped uploading", StringComparison.Ordinal));
        Assert.DoesNotContain(stopped, notice => notice.Contains(names[idle.CameraId], StringComparison.Ordinal)); // never recorded: nothing stopped
    }

    async Task UploadAsync(StackCamera camera, TimeSpan shift)
    {
        var work = Directory.CreateTempSubdirectory("cloudstore-admin-").FullName;
        try
        {
            var playlist = Path.Combine(work, "shifted.m3u8");
            await File.WriteAllLinesAsync(playlist, (await File.ReadAllLinesAsync(video.Playlist)).Select(line => line.StartsWith("#EXT-X-PROGRAM-DATE-TIME:", StringComparison.Ordinal)
                ? "#EXT-X-PROGRAM-DATE-TIME:" + (DateTimeOffset.Parse(line["#EXT-X-PROGRAM-DATE-TIME:".Length..], System.Globalization.CultureInfo.InvariantCulture) + shift)
                    .UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture)
                : line));
            foreach (var file in Directory.GetFiles(Path.GetDirectoryName(video.Playlist)!).Where(f => !f.EndsWith(".m3u8", StringComparison.Ordinal)))
            {
                File.Copy(file, Path.Combine(work, Path.GetFileName(file)));
            }

            using var uploader = UploadTestKit.Uploader(browser.Stack.Cloud, camera, Path.Combine(work, "cache"));
            await uploader.RunAsync(new VideoSource.Folder(playlist), new CancellationTokenSource(TimeSpan.FromMinutes(2)).Token);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task FirstDay_InviteAColleague_AddADeviceAndCamera_EnableIt_ChooseTheRegion_ReadTheAuditLog()
    {
        var cloud = browser.Stack.Cloud;
        using var tenant = await StackTenant.CreateAsync(cloud, region: null);
        await using var context = await browser.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 }, AcceptDownloads = true });
        var page = await context.NewPageAsync();
        var diagnostics = PlayerPage.Diagnostics(page);
        await page.GotoAsync(new Uri(cloud.PlayerUrl, "/sign-in").ToString());
        await PlayerPage.SignInAsync(page, tenant.AdministratorUser);

        // Users: invite a colleague; the mail arrives and the list shows the invitation.
        await page.ClickAsync("header a.nav:text('Administration')");
        Assert.Equal("Users", await page.InnerTextAsync("h1"));
        var colleague = $"colleague-{Guid.NewGuid():N}@stack.test";
        await page.FillAsync("form input[type=email]", colleague);
        await page.SelectOptionAsync("form select", Roles.Operator);
        await page.ClickAsync("button:text('Send invitation')");
        Assert.Contains($"Invitation sent to {colleague}", await page.InnerTextAsync("[role=status]"));
        Assert.Contains("invited", await page.InnerTextAsync($"tr[data-user='{colleague}']"));
        using (var inbox = MailInbox.ForStack(cloud))
        {
            Assert.NotEmpty((await inbox.WaitForAsync(colleague)).LinkToken);
        }

        await Screenshots.TakeAsync(page, "admin-users");

        // Organisation: the region is chosen once, with the name typed to confirm.
        await page.ClickAsync("nav.admin-nav a:text('Organisation')");
        await page.SelectOptionAsync("select", Regions.EuFrankfurt);
        await page.FillAsync("input[name='Region.Confirm']", "the wrong name");
        await page.ClickAsync("button:text('Store recordings there for good')");
        Assert.Contains("To confirm, type the region's name", await page.InnerTextAsync("[role=alert]"));
        await page.SelectOptionAsync("select", Regions.EuFrankfurt);
        await page.FillAsync("input[name='Region.Confirm']", Regions.Display(Regions.EuFrankfurt));
        await page.ClickAsync("button:text('Store recordings there for good')");
        Assert.Contains($"stored in {Regions.Display(Regions.EuFrankfurt)}", await page.InnerTextAsync("main"));
        await Screenshots.TakeAsync(page, "admin-organization");

        // Devices: a new device's code is shown once; the device enrols with it, as a camera would.
        await page.ClickAsync("nav.admin-nav a:text('Devices and cameras')");
        var serial = "CAM" + Guid.NewGuid().ToString("N")[..9].ToUpperInvariant();
        await page.FillAsync("input[name='NewDevice.Serial']", serial);
        await page.FillAsync("input[name='NewDevice.Model']", "AXIS M3086-V");
        await page.ClickAsync("button:text('Add device')");
        var code = (await page.InnerTextAsync(".enrolment-code")).Trim();
        using var key = DeviceKey.Create();
        using var deviceHttp = browser.Stack.Client(new Uri(cloud.FunctionsUrl, "/api/"));
        var device = new DeviceClient(deviceHttp, key, TimeProvider.System);
        var identity = DeviceIdentity.From(await device.EnrolAsync(code, serial, CancellationToken.None));
        await device.AccessTokenAsync(identity.DeviceId, identity.AssertionAudience, CancellationToken.None); // reports its firmware
        await page.ReloadAsync();
        Assert.Empty(await page.Locator(".enrolment-code").AllAsync()); // shown once only
        var section = page.Locator($"section.device[data-serial='{serial}']");
        Assert.Contains("enrolled", await section.InnerTextAsync());

        await section.Locator("input[name=cameraName]").FillAsync("Loading bay");
        await section.Locator("button:text('Add camera')").ClickAsync();
        var freeBefore = await FreeLicencesAsync(page);
        section = page.Locator($"section.device[data-serial='{serial}']");
        await section.Locator("tr[data-camera='Loading bay'] button:text('Enable')").ClickAsync();
        Assert.Contains("records to the cloud", await page.InnerTextAsync("[role=status]"));
        Assert.Equal(freeBefore - 1, await FreeLicencesAsync(page));
        Assert.Equal("on", await page.Locator($"section.device[data-serial='{serial}'] tr[data-camera='Loading bay'] .status").InnerTextAsync());
        await Screenshots.TakeAsync(page, "admin-devices");

        // Audit log: the day's changes, filtered by action, and as CSV.
        await page.ClickAsync("nav.admin-nav a:text('Audit log')");
        var rows = await page.Locator("table.audit tbody tr").CountAsync();
        Assert.True(rows > 3, $"{rows} audit rows");
        await page.FillAsync("input[name=action]", "camera.enabled-changed");
        await page.ClickAsync("button:text('Filter')");
        var filtered = await page.Locator("table.audit tbody tr").AllInnerTextsAsync();
        Assert.NotEmpty(filtered);
        Assert.All(filtered, row => Assert.Contains("camera.enabled-changed", row));
        await Screenshots.TakeAsync(page, "admin-audit");
        var download = await page.RunAndWaitForDownloadAsync(() => page.ClickAsync("a:text('Download CSV')"));
        var csv = await File.ReadAllTextAsync((await download.PathAsync())!);
        Assert.StartsWith("id,time,actor,source_address,action,target,outcome", csv, StringComparison.Ordinal);
        Assert.All(csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Skip(1), line => Assert.Contains(",camera.enabled-changed,", line));
        Assert.Equal(filtered.Count, csv.Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length - 1);

        // At phone width every page still reads (no sideways scrolling).
        await page.SetViewportSizeAsync(390, 844);
        foreach (var path in new[] { "/admin/users", "/admin/devices", "/admin/organization", "/admin/audit" })
        {
            await page.GotoAsync(new Uri(cloud.PlayerUrl, path).ToString());
            await Screenshots.TakeAsync(page, "phone" + path.Replace('/', '-'));
            var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - document.documentElement.clientWidth");
            Assert.True(overflow <= 0, $"{path} scrolls sideways by {overflow} px at phone width");
        }

        Assert.DoesNotContain(diagnostics, d => d.Contains("Content Security Policy", StringComparison.Ordinal) || d.StartsWith('5'));
    }

    [Fact]
    public async Task Viewer_SeesNoAdministration_AndTheAdminPagesAndCsvAreRefused()
    {
        var cloud = browser.Stack.Cloud;
        using var tenant = await StackTenant.CreateAsync(cloud, region: null);
        var viewer = await tenant.AddUserAsync(Roles.Viewer);
        using (var api = browser.Stack.Client(cloud.FunctionsUrl))
        {
            await SignInFlow.SignInAsync(api, viewer, TimeProvider.System); // enrols the authenticator, as the phone would
        }

        await using var context = await browser.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(cloud.PlayerUrl, "/sign-in").ToString());
        await PlayerPage.SignInAsync(page, viewer);

        Assert.Equal(0, await page.Locator("header a.nav").CountAsync());
        foreach (var path in new[] { "/admin/users", "/admin/devices", "/admin/organization", "/admin/audit" })
        {
            var response = await page.GotoAsync(new Uri(cloud.PlayerUrl, path).ToString());
            Assert.NotEqual(path, new Uri(page.Url).AbsolutePath);
            Assert.DoesNotContain("Invite a colleague", await page.InnerTextAsync("body"));
        }

        // The download too, asked for directly with the viewer's cookie.
        var handler = TrustedHttp.CreateHandler(cloud.Certificates.CaCertificate);
        handler.AllowAutoRedirect = false;
        using var client = new HttpClient(handler) { BaseAddress = cloud.PlayerUrl };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/audit.csv");
        request.Headers.Add("Cookie", await PlayerPage.CookieHeaderAsync(context));
        using var csv = await client.SendAsync(request);
        Assert.NotEqual(HttpStatusCode.OK, csv.StatusCode);
        Assert.DoesNotContain("id,time,actor", await csv.Content.ReadAsStringAsync());
    }

    static async Task<int> FreeLicencesAsync(IPage page) =>
        int.Parse(FreeCount().Match(await page.InnerTextAsync(".licences")).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);

    [GeneratedRegex(@"(\d+)\s+free")]
    private static partial Regex FreeCount();
}
