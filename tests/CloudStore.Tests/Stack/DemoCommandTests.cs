using System.Diagnostics;
using System.Globalization;
using CloudStore.Contracts;
using CloudStore.LocalStack;
using CloudStore.Testing;
using CloudStore.Tests.Infrastructure;
using Microsoft.Playwright;
using Xunit;

namespace CloudStore.Tests.Stack;

/// <summary>
/// The README's main command, <c>./cloudstore demo</c>, run as a person runs it: it comes up, and within
/// a minute the administrator it prints signs in to the player in a browser and watches a camera's last
/// minute; Ctrl-C (SIGINT) stops it with nothing left running. The build step is skipped
/// (CLOUDSTORE_SKIP_BUILD=1) because `./cloudstore test` has just built the same tree, and rebuilding
/// it here would rewrite the assemblies this test runs from.
/// </summary>
public sealed class DemoCommandTests : IDisposable
{
    readonly string _state = Directory.CreateTempSubdirectory("cloudstore-demo-").FullName;

    [Fact]
    public async Task Demo_ComesUp_PlaysTheLastMinuteInTheBrowserWithinAMinute_AndStopsCleanlyOnCtrlC()
    {
        var ports = Enumerable.Range(0, 6).Select(_ => ChildProcess.FreePort()).ToArray();
        var start = new ProcessStartInfo("bash")
        {
            WorkingDirectory = RepositoryLayout.Root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("./cloudstore");
        start.ArgumentList.Add("demo");
        start.Environment["CLOUDSTORE_SKIP_BUILD"] = "1";
        start.Environment["CLOUDSTORE_STATE"] = _state;
        start.Environment["CLOUDSTORE_FUNCTIONS_PORT"] = ports[0].ToString(CultureInfo.InvariantCulture);
        start.Environment["CLOUDSTORE_KEYSERVER_PORT"] = ports[1].ToString(CultureInfo.InvariantCulture);
        start.Environment["CLOUDSTORE_PLAYER_PORT"] = ports[2].ToString(CultureInfo.InvariantCulture);
        start.Environment["CLOUDSTORE_AZURITE_PORT"] = ports[3].ToString(CultureInfo.InvariantCulture);
        start.Environment["CLOUDSTORE_SMTP_PORT"] = ports[4].ToString(CultureInfo.InvariantCulture);
        start.Environment["CLOUDSTORE_MAIL_PORT"] = ports[5].ToString(CultureInfo.InvariantCulture);
        using var demo = Process.Start(start)!;
        var output = new System.Text.StringBuilder();
        var ready = new TaskCompletionSource();
        demo.OutputDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }

            if (e.Data?.Contains(Demo.ReadyLine, StringComparison.Ordinal) == true)
            {
                ready.TrySetResult();
            }
        };
        demo.ErrorDataReceived += (_, e) =>
        {
            lock (output)
            {
                output.AppendLine(e.Data);
            }
        };
        demo.BeginOutputReadLine();
        demo.BeginErrorReadLine();

        try
        {
            await Task.WhenAny(ready.Task, demo.WaitForExitAsync(), Task.Delay(TimeSpan.FromMinutes(3)));
            Assert.True(ready.Task.IsCompleted, "The demo did not report ready:\n" + output);

            using var client = new HttpClient(TrustedHttp.CreateHandler(Path.Combine(_state, "tls", "ca.pem")));
            using var player = await client.GetAsync($"https://127.0.0.1:{ports[2]}/");
            using var api = await client.GetAsync($"https://127.0.0.1:{ports[0]}/api/health");
            using var inbox = await client.GetAsync($"https://127.0.0.1:{ports[5]}/api/healthz");
            Assert.Equal(System.Net.HttpStatusCode.OK, player.StatusCode);
            Assert.Equal(System.Net.HttpStatusCode.OK, api.StatusCode);
            Assert.Equal(System.Net.HttpStatusCode.OK, inbox.StatusCode);
            lock (output)
            {
                Assert.Contains("admin@demo.cloudstore.test", output.ToString(), StringComparison.Ordinal);
                Assert.Contains("otpauth://totp/CloudStore:", output.ToString(), StringComparison.Ordinal);
                Assert.Contains($"Mail inbox    https://127.0.0.1:{ports[5]}/", output.ToString(), StringComparison.Ordinal);
            }

            // Both simulated cameras record: within a minute each has segments in the region's index.
            var account = System.Text.Json.JsonSerializer.Deserialize<DemoAccount>(await File.ReadAllTextAsync(Path.Combine(_state, "demo-account.json")))!;
            var deadline = TimeProvider.System.GetUtcNow().AddSeconds(60);
            while (await IndexedCamerasAsync() < account.CameraIds.Count)
            {
                Assert.True(TimeProvider.System.GetUtcNow() < deadline, "The demo's cameras indexed no segments within a minute:\n" + output);
                await Task.Delay(1000);
            }

            // Still within that minute, the printed administrator signs in and watches a camera's last minute.
            using (var playwright = await Playwright.CreateAsync())
            await using (var browser = await LocalChromium.LaunchAsync(playwright, Path.Combine(_state, "tls", "server.pem")))
            {
                var page = await browser.NewPageAsync();
                var diagnostics = PlayerPage.Diagnostics(page);
                await page.GotoAsync($"https://127.0.0.1:{ports[2]}/");
                await PlayerPage.SignInAsync(page, account.AdministratorEmail, account.AdministratorPassword, account.AuthenticatorKey);
                await page.ClickAsync($"a[href='cameras/{account.CameraIds[0]}']");
                var opened = TimeProvider.System.GetUtcNow();
                var playing = await PlayerPage.WaitForPlayingAsync(page, t => t > opened.AddMinutes(-1.5), "the camera's last minute", diagnostics, seconds: 30);
                Assert.True(TimeProvider.System.GetUtcNow() < deadline, $"playing only at {TimeProvider.System.GetUtcNow():O}");
                Assert.True(await PlayerPage.FrameContrastAsync(page) > 64, $"a blank frame at {playing:O}");
            }

            using (var kill = Process.Start("kill", ["-INT", demo.Id.ToString(CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await demo.WaitForExitAsync(stopTimeout.Token);
            Assert.Equal(0, demo.ExitCode);
            Assert.Empty(ProcessesMentioning(_state));
        }
        finally
        {
            if (!demo.HasExited)
            {
                demo.Kill(entireProcessTree: true);
            }

            foreach (var pid in ProcessesMentioning(_state))
            {
                try
                {
                    Process.GetProcessById(pid).Kill(entireProcessTree: true);
                }
                catch (ArgumentException)
                {
                }
            }
        }
    }

    async Task<int> IndexedCamerasAsync()
    {
        var database = Path.Combine(_state, "functions", "index", DemoSetup.Region + ".db");
        if (!File.Exists(database))
        {
            return 0;
        }

        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={database};Mode=ReadOnly");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(DISTINCT CameraId) FROM Segments";
        return Convert.ToInt32(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    /// <summary>Processes whose command line names the demo's state folder (Azurite, hosts are started with paths in it).</summary>
    static List<int> ProcessesMentioning(string text)
    {
        var found = new List<int>();
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == Environment.ProcessId)
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(folder, "cmdline")).Replace('\0', ' ');
                var environment = File.ReadAllText(Path.Combine(folder, "environ"));
                if (commandLine.Contains(text, StringComparison.Ordinal) || environment.Contains(text, StringComparison.Ordinal))
                {
                    found.Add(pid);
                }
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return found;
    }

    public void Dispose() => Directory.Delete(_state, recursive: true);
}
