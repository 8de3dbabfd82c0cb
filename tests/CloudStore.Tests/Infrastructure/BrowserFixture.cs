using CloudStore.Testing;
using Microsoft.Playwright;
using Xunit;

namespace CloudStore.Tests.Infrastructure;

/// <summary>The local stack and Debian's Chromium trusting it (<see cref="LocalChromium"/>), shared by a test class.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    IPlaywright? _playwright;

    public LocalCloudFixture Stack { get; } = new();

    public IBrowser Browser { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Stack.InitializeAsync();
        _playwright = await Playwright.CreateAsync();
        Browser = await LocalChromium.LaunchAsync(_playwright, Stack.Cloud.Certificates.ServerCertificate);
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
