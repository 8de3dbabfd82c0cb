using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.Playwright;

namespace CloudStore.Testing;

/// <summary>
/// Debian's Chromium driven by Playwright (its driver ships in the NuGet package; no browser is
/// downloaded), trusting exactly the local stack's server key and nothing else that is not publicly
/// trusted, with the flags this closed network needs. Compiled into the tests and the bench.
/// </summary>
public static class LocalChromium
{
    public const string Path = "/usr/bin/chromium";

    /// <summary>Starts Chromium trusting the server key in <paramref name="serverCertificateFile"/> (and the public roots).</summary>
    public static async Task<IBrowser> LaunchAsync(IPlaywright playwright, string serverCertificateFile)
    {
        if (!File.Exists(Path))
        {
            throw new InvalidOperationException($"{Path} is missing: Debian's chromium package is needed (./cloudstore installs it when run as root).");
        }

        using var server = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(serverCertificateFile));
        var spki = Convert.ToBase64String(SHA256.HashData(server.PublicKey.ExportSubjectPublicKeyInfo()));
        return await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Path,
            Headless = true,
            Args =
            [
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", $"--ignore-certificate-errors-spki-list={spki}",
            ],
        });
    }
}
