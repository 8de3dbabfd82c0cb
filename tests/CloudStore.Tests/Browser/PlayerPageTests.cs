using CloudStore.Tests.Infrastructure;
using Xunit;

namespace CloudStore.Tests.Browser;

/// <summary>The player as a person's browser sees it: real Chromium against the real player host over HTTPS.</summary>
public sealed class PlayerPageTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Home_SignedOut_ShowsTheSignInPageOverHttpsWithItsStylesAndNoCspViolation()
    {
        await using var context = await browser.Browser.NewContextAsync();
        var page = await context.NewPageAsync();
        var violations = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal))
            {
                violations.Add(message.Text);
            }
        };

        var response = await page.GotoAsync(browser.Stack.Cloud.PlayerUrl.ToString());
        var heading = await page.TextContentAsync("h1");
        var barColour = await page.EvalOnSelectorAsync<string>("header.bar", "e => getComputedStyle(e).backgroundColor");

        Assert.Equal(200, response!.Status);
        Assert.EndsWith("/sign-in?ReturnUrl=%2F", page.Url, StringComparison.Ordinal);
        Assert.Equal("Sign in", heading);
        Assert.Equal("rgb(29, 35, 48)", barColour);
        Assert.Empty(violations);
    }
}
