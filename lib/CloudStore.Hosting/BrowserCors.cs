namespace CloudStore.Hosting;

/// <summary>What the hosts the player's scripts call (the API, the key server) tell browsers about their CORS preflights.</summary>
public static class BrowserCors
{
    /// <summary>
    /// How long a browser may keep a preflight's answer: Chromium's cap (Firefox allows a day; without the header
    /// Chromium keeps it 5 s). Browsers keep answers per URL, so this spares the live playlist's reloads and any request
    /// repeated a preflight each; a new URL (another playlist window, another key) is still asked about once.
    /// </summary>
    public static readonly TimeSpan PreflightMaxAge = TimeSpan.FromHours(2);
}
