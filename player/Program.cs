using CloudStore.Hosting;
using CloudStore.Player.Components;

// The web player host. Pages are rendered on the server (static SSR); no script runs inline.
var builder = WebApplication.CreateBuilder(args);
builder.UseCloudStoreKestrel(maxRequestBodyBytes: 64 * 1024);
if (builder.Configuration.GetValue<bool>("Player:UseStaticWebAssets"))
{
    // Serve wwwroot from the build output's manifest when running from bin/ rather than a publish folder.
    builder.WebHost.UseStaticWebAssets();
}

builder.Services.AddCloudStoreProblemDetails();
builder.Services.AddRazorComponents();

var app = builder.Build();
app.UseCloudStoreProblemDetails();
app.UseSecurityHeaders(PlayerContentSecurityPolicy.Value, noStore: false);
app.UseAntiforgery();
app.MapStaticAssets();
app.MapGet("/health", () => TypedResults.Ok(new { status = "ok" }));
app.MapRazorComponents<App>();

await app.RunAsync();

static class PlayerContentSecurityPolicy
{
    /// <summary>Scripts and styles only from the player's own origin: no inline script, no eval.</summary>
    public const string Value =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; " +
        "connect-src 'self' https:; worker-src 'self' blob:; object-src 'none'; frame-ancestors 'self'; base-uri 'self'; form-action 'self'";
}
