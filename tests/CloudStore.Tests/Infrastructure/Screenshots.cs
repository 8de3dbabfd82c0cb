using CloudStore.LocalStack;
using Microsoft.Playwright;

namespace CloudStore.Tests.Infrastructure;

/// <summary>
/// Pictures of the pages as the browser tests see them, so anyone can see what the product looks like without running
/// it: into <c>.local/screenshots/</c> (or <c>CLOUDSTORE_SCREENSHOTS</c>); docs/screenshots/ keeps the key ones.
/// </summary>
public static class Screenshots
{
    public static string Folder { get; } = Environment.GetEnvironmentVariable("CLOUDSTORE_SCREENSHOTS") is { Length: > 0 } folder
        ? folder
        : Path.Combine(RepositoryLayout.LocalState, "screenshots");

    public static async Task TakeAsync(IPage page, string name)
    {
        Directory.CreateDirectory(Folder);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Folder, name + ".png"), FullPage = true });
    }
}
