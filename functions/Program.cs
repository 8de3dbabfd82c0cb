using System.Text.Json.Serialization;
using CloudStore.Functions.Audit;
using CloudStore.Functions.Auth;
using CloudStore.Functions.Credentials;
using CloudStore.Functions.Data;
using CloudStore.Functions.Devices;
using CloudStore.Functions.Organizations;
using CloudStore.Functions.Playback;
using CloudStore.Functions.Platform;
using CloudStore.Functions.Regional;
using CloudStore.Functions.Segments;
using CloudStore.Functions.Users;
using CloudStore.Hosting;

// The control plane. Runs as a plain ASP.NET Core app, and under the Azure Functions host as a
// custom handler (host.json at the repository root); every route lives under /api.
var builder = WebApplication.CreateBuilder(args);
var isCommand = OperationsCommands.IsCommand(args);
if (isCommand)
{
    // An operations command prints its result on stdout; logs go to stderr.
    builder.Logging.SetMinimumLevel(LogLevel.Warning).AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace);
}

builder.UseCloudStoreKestrel(Limits.MaxRequestBodyBytes);
builder.Services.AddCloudStoreProblemDetails();
builder.Services.ConfigureHttpJsonOptions(json =>
{
    // Strict input: an unknown field, a missing required one or a null where none is allowed is a 400.
    json.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
    json.SerializerOptions.RespectNullableAnnotations = true;
    json.SerializerOptions.RespectRequiredConstructorParameters = true;
});
builder.Services.AddSingleton(TimeProvider.System);
builder.Services.AddHttpContextAccessor();
builder.Services.AddOpenApi();
builder.Services.AddCors(cors => cors.AddDefaultPolicy(policy =>
{
    // The web player's scripts read timelines and playlists from the browser; no other origin may.
    if (builder.Configuration["Player:Origin"] is { Length: > 0 } origin)
    {
        policy.WithOrigins(origin).WithMethods("GET").WithHeaders("Authorization");
    }
}));
builder.Services.AddResponseCompression(compression =>
{
    // Playlists only: a day's playlist is megabytes of repetitive text. They reflect no request input, so
    // compressing them beside the URL signatures they carry gives a BREACH-style attack nothing to vary.
    compression.EnableForHttps = true;
    compression.MimeTypes = ["application/vnd.apple.mpegurl"];
});

builder.Services.AddDirectory(builder.Configuration);
builder.AddAuth();
builder.Services.AddAudit().AddOrganizations().AddDevices();
builder.Services.AddRegions().AddCredentials(builder.Configuration);
builder.Services.AddOptions<PlaybackOptions>().BindConfiguration(PlaybackOptions.Section);

var app = builder.Build();
app.UseFrontEndClientAddress();
app.UseCloudStoreProblemDetails();
app.UseResponseCompression();
app.UseSecurityHeaders(SecurityHeaders.ApiContentSecurityPolicy, noStore: true);
app.UseCors();
app.UseAuthentication();
app.UseAuthorization();

app.MapHealth();
app.MapAuth();
app.MapOrganizations();
app.MapUsers();
app.MapDevices();
app.MapAudit();
app.MapCredentials();
app.MapSegments();
app.MapPlayback();
app.MapOpenApi("/api/openapi/{documentName}.json");

await app.Services.InitializeDirectoryAsync(app.Lifetime.ApplicationStopping);
await app.Services.GetRequiredService<RegionCatalog>().InitializeAsync(app.Lifetime.ApplicationStopping);
if (isCommand)
{
    return await OperationsCommands.RunAsync(app.Services, args);
}

await app.RunAsync();
return 0;

/// <summary>Entry point, visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
