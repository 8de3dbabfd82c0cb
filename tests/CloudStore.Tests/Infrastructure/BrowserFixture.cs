using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Playwright;
using Xunit;

namespace CloudStore.Tests.Infrastructure;

/// <summary>
/// Debian's Chromium driven by Playwright (its driver ships in the NuGet package; no browser is
/// downloaded), trusting exactly the local stack's server key and nothing else that is not publicly
/// trusted, with the flags this closed network needs.
/// </summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    IPlaywright? _playwright;

    public LocalCloudFixture Stack { get; } = new();

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Stack.InitializeAsync();
        _playwright = await Playwright.CreateAsync();
        Browser = await LaunchAsync(_playwright, Stack.Cloud.Certificates.ServerCertificate);
    }

    /// <summary>Starts Debian's Chromium trusting the server key in <paramref name="serverCertificateFile"/> (and the public roots).</summary>
    public static async Task<IBrowser> LaunchAsync(IPlaywright playwright, string serverCertificateFile)
    {
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: Debian's chromium package is needed (./cloudstore test installs it when run as root).");
        }

        using var server = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(serverCertificateFile));
        var spki = Convert.ToBase64String(SHA256.HashData(server.PublicKey.ExportSubjectPublicKeyInfo()));
        return await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", $"--ignore-certificate-errors-spki-list={spki}",
            ],
        });
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }

        _playwright?.Dispose();
        await Stack.DisposeAsync();
    }
}
