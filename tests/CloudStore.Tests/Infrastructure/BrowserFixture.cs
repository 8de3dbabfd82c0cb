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
        if (!File.Exists(ChromiumPath))
        {
            throw new InvalidOperationException($"{ChromiumPath} is missing: Debian's chromium package is needed (./cloudstore test installs it when run as root).");
        }

        await Stack.InitializeAsync();
        using var server = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Stack.Cloud.Certificates.ServerCertificate));
        var spki = Convert.ToBase64String(SHA256.HashData(server.PublicKey.ExportSubjectPublicKeyInfo()));
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
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
