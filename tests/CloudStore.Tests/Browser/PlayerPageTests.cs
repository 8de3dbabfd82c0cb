using System.Net.Http.Json;
using CloudStore.Contracts;
using CloudStore.Tests.Infrastructure;
using Xunit;

namespace CloudStore.Tests.Browser;

/// <summary>The player as a person's browser sees it: real Chromium against the real player host over HTTPS.</summary>
public sealed class PlayerPageTests(BrowserFixture browser) : IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task Home_SignedOut_ShowsTheSignInPageOverHttpsWithItsStylesAndNoCspViolation()
    {
        await using var context = await browser.Browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
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
        await Screenshots.TakeAsync(page, "sign-in");
        var barColour = await page.EvalOnSelectorAsync<string>("header.bar", "e => getComputedStyle(e).backgroundColor");

        Assert.Equal(200, response!.Status);
        Assert.EndsWith("/sign-in?ReturnUrl=%2F", page.Url, StringComparison.Ordinal);
        Assert.Equal("Sign in", heading);
        Assert.Equal("rgb(29, 35, 48)", barColour);
        Assert.Empty(violations);
    }

    [Fact]
    public async Task PasswordReset_LinkFromTheMail_NewPasswordChosenOnThePlayersPage_ThenSignsInWithIt()
    {
        var cloud = browser.Stack.Cloud;
        using var tenant = await StackTenant.CreateAsync(cloud, region: null);
        var user = await tenant.AddUserAsync(Roles.Viewer);
        using (var api = browser.Stack.Client(cloud.FunctionsUrl))
        {
            await SignInFlow.SignInAsync(api, user, TimeProvider.System); // enrols the authenticator, as the phone would
        }

        var listed = await tenant.Administrator.GetFromJsonAsync<List<UserResponse>>("/api/users");
        using (var started = await tenant.Administrator.PostAsync($"/api/users/{listed!.Single(u => u.Email == user.Email).Id}/password-reset", null))
        {
            Assert.True(started.IsSuccessStatusCode, await started.Content.ReadAsStringAsync());
        }

        using var inbox = MailInbox.ForStack(cloud);
        var mail = await inbox.WaitForAsync(user.Email, count: 2);
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
        var newPassword = TestTenant.NewPassword();

        var response = await page.GotoAsync(mail.Link.ToString());
        var cacheControl = await response!.HeaderValueAsync("cache-control");
        await page.Locator("input[autocomplete=new-password]").Nth(0).FillAsync(newPassword);
        await page.Locator("input[autocomplete=new-password]").Nth(1).FillAsync(newPassword + "typo");
        await page.ClickAsync("main button[type=submit]");
        var mismatch = await page.InnerTextAsync("p.message.error");
        await page.Locator("input[autocomplete=new-password]").Nth(0).FillAsync(newPassword);
        await page.Locator("input[autocomplete=new-password]").Nth(1).FillAsync(newPassword);
        await page.ClickAsync("main button[type=submit]");
        await PlayerPage.ExpectAsync(page, "input[type=email]");
        var told = await page.InnerTextAsync("p.message");
        await PlayerPage.SignInAsync(page, new TestUser(user.Id, user.Email, newPassword, user.Role) { AuthenticatorKey = user.AuthenticatorKey, LastTotpStep = user.LastTotpStep });

        Assert.Contains("no-store", cacheControl, StringComparison.Ordinal);
        Assert.Contains("differ", mismatch, StringComparison.Ordinal);
        Assert.Contains("Your new password is set", told, StringComparison.Ordinal);
        Assert.Empty(violations);
    }
}
