using CloudStore.Contracts;
using CloudStore.Hosting;
using CloudStore.Player.Components;
using CloudStore.Player.Components.Pages.Admin;
using CloudStore.Player.Data;
using CloudStore.Player.Session;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;

// The web player host. Pages are rendered on the server (static SSR) and post plain forms; the video and
// the timeline are small ES modules. No script runs inline. Media and keys never pass through this host:
// the browser fetches segments from storage and keys from the key server.
var builder = WebApplication.CreateBuilder(args);
builder.UseCloudStoreKestrel(maxRequestBodyBytes: 64 * 1024);
builder.AddCloudStoreServiceDefaults("cloudstore-player");
var player = builder.Configuration.GetSection(PlayerOptions.Section);
if (player.GetValue<bool>(nameof(PlayerOptions.UseStaticWebAssets)))
{
    // Serve wwwroot from the build output's manifest when running from bin/ rather than a publish folder.
    builder.WebHost.UseStaticWebAssets();
}

builder.Services.AddOptions<PlayerOptions>().Bind(player).ValidateDataAnnotations().ValidateOnStart();
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddSingleton(services => new FrontEndKey(
    services.GetRequiredService<IOptions<PlayerOptions>>().Value.FrontEndKeyFile is { Length: > 0 } file ? FrontEnd.ReadKey(file) : null));
builder.Services.AddHttpClient<FunctionsApi>((services, http) =>
        http.BaseAddress = services.GetRequiredService<IOptions<PlayerOptions>>().Value.FunctionsUrl)
    .ConfigurePrimaryHttpMessageHandler(() => TrustedHttp.CreateHandler(builder.Configuration[$"{TlsOptions.Section}:{nameof(TlsOptions.CaCertificateFile)}"]));

// Sessions and the data-protection keys that seal cookies and stored tokens live in the player's database, which
// every instance shares: a cookie sealed by one instance opens on another, and a session started on one works on all.
builder.Services.AddPlayerDatabase();
builder.Services.AddDataProtection().SetApplicationName("cloudstore-player").PersistKeysToDbContext<PlayerDbContext>();

builder.Services.AddHealthChecks()
    .AddHttpDependency("functions-api", services => new Uri(services.GetRequiredService<IOptions<PlayerOptions>>().Value.FunctionsUrl, "api/health"))
    .AddHttpDependency("key-server", services => new Uri(services.GetRequiredService<IOptions<PlayerOptions>>().Value.KeyServerUrl, "health"))
    .AddDbContextCheck<PlayerDbContext>("player-database");
builder.Services.AddPlayerSessions(builder.Configuration);
builder.Services.AddCloudStoreProblemDetails();
builder.Services.AddRazorComponents();

var app = builder.Build();
if (args is ["migrate", ..])
{
    // The operations command: bring the player's database to this build's schema, then stop.
    var database = app.Services.GetRequiredService<IOptions<PlayerDatabaseOptions>>().Value;
    var applied = await PlayerDatabase.MigrateAsync(database, CancellationToken.None, PlayerDatabase.SignedIn(app.Services, database));
    Console.WriteLine(applied.Count == 0 ? "The player's database is current." : $"Applied {string.Join(", ", applied)}.");
    return 0;
}

await PlayerDatabase.PrepareAsync(app.Services, app.Lifetime.ApplicationStopping);
app.UseCloudStoreProblemDetails();
app.UseSecurityHeaders(PlayerContentSecurityPolicy.Value, noStore: false);
app.MapStaticAssets();

// hls.js, from npm (see CloudStore.Player.csproj), copied beside the app at build.
app.UseStaticFiles(new StaticFileOptions
{
    FileProvider = new PhysicalFileProvider(Path.Combine(AppContext.BaseDirectory, "hlsjs")),
    RequestPath = "/lib/hls",
    ContentTypeProvider = new Microsoft.AspNetCore.StaticFiles.FileExtensionContentTypeProvider { Mappings = { [".mjs"] = "text/javascript" } },
});
// zip.js, from npm likewise (password-protected exports), at /lib/zip/.
app.UseStaticFiles(new StaticFileOptions
{
    FileProvider = new PhysicalFileProvider(Path.Combine(AppContext.BaseDirectory, "zipjs")),
    RequestPath = "/lib/zip",
});
app.UseAuthentication();
app.UseAuthorization();
app.UseAntiforgery();
app.MapCloudStoreHealth("/health");
app.MapSessionEndpoints();
app.MapAuditCsv();
app.MapRazorComponents<App>();

await app.RunAsync();
return 0;

static class PlayerContentSecurityPolicy
{
    /// <summary>
    /// Scripts and styles only from the player's own origin: no inline script, no eval. Pages fetch from
    /// the APIs and storage over HTTPS (connect-src), and play media from MediaSource blobs.
    /// </summary>
    public const string Value =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; " +
        "connect-src 'self' https:; worker-src 'self' blob:; object-src 'none'; frame-ancestors 'self'; base-uri 'self'; form-action 'self'";
}
