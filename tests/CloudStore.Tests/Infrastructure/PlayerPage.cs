using System.Collections.Concurrent;
using System.Globalization;
using CloudStore.LocalStack;
using Microsoft.Playwright;
using Xunit;

namespace CloudStore.Tests.Infrastructure;

/// <summary>What a person does and sees on the web player's pages, for browser tests.</summary>
public static class PlayerPage
{
    /// <summary>
    /// Signs in on the page shown: password, then (when the user has an authenticator) a code. A code is accepted once,
    /// and the account may have used the current one moments ago (the demo's own sign-in): this sends the next step's
    /// code, which the server accepts within its one step of drift.
    /// </summary>
    public static Task SignInAsync(IPage page, string email, string password, string? authenticatorKey) =>
        SignInAsync(page, email, password, authenticatorKey is null
            ? null
            : () => Task.FromResult(Totp.Code(authenticatorKey, TimeProvider.System.GetUtcNow().AddSeconds(30))));

    static async Task SignInAsync(IPage page, string email, string password, Func<Task<string>>? code)
    {
        await page.FillAsync("input[type=email]", email);
        await page.FillAsync("input[type=password]", password);
        await page.ClickAsync("main button[type=submit]");
        if (code is not null)
        {
            await page.FillAsync("input[autocomplete=one-time-code]", await code());
            await page.ClickAsync("main button[type=submit]");
        }

        if (await page.Locator("form.sign-out").CountAsync() == 0)
        {
            Assert.Fail($"Not signed in; the page ({page.Url}) says: {await page.InnerTextAsync("body")}");
        }
    }

    /// <summary>The browser's cookies for the player as a Cookie header, for requests the test makes itself (as the same session).</summary>
    public static async Task<string> CookieHeaderAsync(IBrowserContext context) =>
        string.Join("; ", (await context.CookiesAsync()).Select(c => $"{c.Name}={c.Value}"));

    public static Task SignInAsync(IPage page, TestUser user) =>
        SignInAsync(page, user.Email, user.Password, user.AuthenticatorKey is null ? null : () => user.NextCodeAsync(TimeProvider.System));

    /// <summary>Waits for <paramref name="selector"/>; when it does not come, fails with what the page says instead.</summary>
    public static async Task ExpectAsync(IPage page, string selector)
    {
        try
        {
            await page.Locator(selector).First.WaitForAsync(new() { Timeout = 10_000 });
        }
        catch (TimeoutException)
        {
            Assert.Fail($"No {selector} on {page.Url}; the page says: {await page.InnerTextAsync("body")}");
        }
    }

    /// <summary>
    /// Collects what the browser reports (console errors and warnings, failed requests, 4xx/5xx answers).
    /// URLs are kept without their query: storage URLs carry read signatures, which test output must not show.
    /// </summary>
    public static ConcurrentQueue<string> Diagnostics(IPage page)
    {
        var diagnostics = new ConcurrentQueue<string>();
        page.Console += (_, message) =>
        {
            if (message.Type is "error" or "warning")
            {
                diagnostics.Enqueue(message.Text);
            }
        };
        page.RequestFailed += (_, request) => diagnostics.Enqueue($"request failed: {WithoutQuery(request.Url)} {request.Failure}");
        page.Response += (_, response) =>
        {
            if (response.Status >= 400)
            {
                diagnostics.Enqueue($"{response.Status} {WithoutQuery(response.Url)}");
            }
        };
        return diagnostics;
    }

    static string WithoutQuery(string url) => new Uri(url).GetLeftPart(UriPartial.Path);

    public static Task<double> CurrentTimeAsync(IPage page) => page.EvalOnSelectorAsync<double>("#video", "v => v.currentTime");

    /// <summary>Brightness range of the shown frame, drawn small into a canvas: 0 for a blank frame.</summary>
    public static Task<int> FrameContrastAsync(IPage page) => page.EvalOnSelectorAsync<int>("#video", """
        v => {
          const c = document.createElement('canvas');
          c.width = 64; c.height = 36;
          const g = c.getContext('2d');
          g.drawImage(v, 0, 0, 64, 36);
          const d = g.getImageData(0, 0, 64, 36).data;
          let min = 255, max = 0;
          for (let i = 0; i < d.length; i += 4) {
            const y = (d[i] + d[i + 1] + d[i + 2]) / 3;
            min = Math.min(min, y); max = Math.max(max, y);
          }
          return Math.round(max - min);
        }
        """);

    /// <summary>The wall-clock moment the player shows (from the playlist's program date-times), once it satisfies <paramref name="condition"/>.</summary>
    public static async Task<DateTimeOffset> WaitForPlayingAsync(
        IPage page, Func<DateTimeOffset, bool> condition, string what, IEnumerable<string> diagnostics, int seconds = 20)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(seconds);
        string? last = null;
        while (TimeProvider.System.GetUtcNow() < deadline)
        {
            last = await page.GetAttributeAsync("#player", "data-playing");
            if (last is not null && condition(DateTimeOffset.Parse(last, CultureInfo.InvariantCulture)))
            {
                return DateTimeOffset.Parse(last, CultureInfo.InvariantCulture);
            }

            await Task.Delay(50);
        }

        throw new TimeoutException(
            $"Waited {seconds} s for {what}; the player shows {last ?? "nothing"}; message: {await page.InnerTextAsync("#message")}; " +
            $"browser: {string.Join(" | ", diagnostics.TakeLast(30))}");
    }
}
