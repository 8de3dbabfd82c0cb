using Microsoft.Playwright;

namespace CloudStore.Testing;

/// <summary>
/// Routes a page's playlist requests through .NET (Playwright's own fetch does not trust the local CA): each is fetched
/// from the API with the page's own bearer token and answered with the playlist as <c>rewrite</c> returns it.
/// Compiled into the tests and the bench.
/// </summary>
public static class PlaylistRoute
{
    /// <returns>The client the route sends with; dispose it after <see cref="IPage.UnrouteAllAsync"/> or the page.</returns>
    public static async Task<HttpClient> RewriteAsync(IPage page, HttpMessageHandler trustedHandler, Func<string, string> rewrite)
    {
        var api = new HttpClient(trustedHandler);
        await page.RouteAsync("**/playlist.m3u8*", async route =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, route.Request.Url);
            request.Headers.TryAddWithoutValidation("Authorization", route.Request.Headers["authorization"]);
            using var response = await api.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            await route.FulfillAsync(new()
            {
                Status = (int)response.StatusCode,
                ContentType = "application/vnd.apple.mpegurl",
                Headers = new Dictionary<string, string> { ["Access-Control-Allow-Origin"] = route.Request.Headers["origin"] },
                Body = rewrite(text),
            });
        });
        return api;
    }
}
