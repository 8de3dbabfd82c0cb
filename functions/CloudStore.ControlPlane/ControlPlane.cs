using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Options;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Auth;
using CloudStore.ControlPlane.Credentials;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Decommissioning;
using CloudStore.ControlPlane.Devices;
using CloudStore.ControlPlane.Licences;
using CloudStore.ControlPlane.Mail;
using CloudStore.ControlPlane.Organizations;
using CloudStore.ControlPlane.Platform;
using CloudStore.ControlPlane.Recordings;
using CloudStore.ControlPlane.Regional;
using CloudStore.ControlPlane.Retention;
using CloudStore.ControlPlane.Users;
using CloudStore.Hosting;

namespace CloudStore.ControlPlane;

/// <summary>
/// The control plane's table of contents: its services, its middleware and its operations. Both front
/// doors call exactly these three methods (the Azure Functions worker in <c>CloudStore.Functions</c>, the
/// local ASP.NET Core host in <c>CloudStore.Functions.Local</c>), so they cannot serve different things.
/// </summary>
/// <summary>The <c>Player</c> section as the control plane reads it: the one origin whose scripts may call it, and where invitation and reset links point.</summary>
public sealed class PlayerOriginOptions
{
    public const string Section = "Player";

    public string Origin { get; set; } = "";
}

public static class ControlPlane
{
    public static IHostApplicationBuilder AddControlPlane(this IHostApplicationBuilder builder)
    {
        var services = builder.Services;
        builder.AddCloudStoreServiceDefaults("cloudstore-functions");
        services.AddCloudStoreProblemDetails();
        services.ConfigureHttpJsonOptions(json =>
        {
            // Strict input: an unknown field, a missing required one or a null where none is allowed is a 400.
            json.SerializerOptions.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
            json.SerializerOptions.RespectNullableAnnotations = true;
            json.SerializerOptions.RespectRequiredConstructorParameters = true;
        });
        services.AddSingleton(TimeProvider.System);
        services.AddHttpContextAccessor();
        services.AddOptions<PlayerOriginOptions>().BindConfiguration(PlayerOriginOptions.Section)
            .Validate(o => Uri.TryCreate(o.Origin, UriKind.Absolute, out var origin) && origin.Scheme == Uri.UriSchemeHttps && origin.AbsolutePath == "/",
                "Player:Origin must be the player's https origin (scheme, host and port only): browsers from there may call the API, and mailed links open it.")
            .ValidateOnStart();
        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<IOptions<PlayerOriginOptions>>((cors, player) => cors.AddDefaultPolicy(policy =>
        {
            // The web player's scripts read timelines and playlists from the browser, and report altered segments (a JSON
            // POST); no other origin may.
            if (player.Value.Origin.Length > 0)
            {
                policy.WithOrigins(player.Value.Origin.TrimEnd('/')).WithMethods("GET", "POST").WithHeaders("Authorization", "Content-Type")
                    .SetPreflightMaxAge(BrowserCors.PreflightMaxAge);
            }
        }));
        services.AddResponseCompression(compression =>
        {
            // Playlists only: a day's playlist is megabytes of repetitive text. They reflect no request input, so
            // compressing them beside the URL signatures they carry gives a BREACH-style attack nothing to vary.
            compression.EnableForHttps = true;
            compression.MimeTypes = ["application/vnd.apple.mpegurl"];
        });

        services.AddOptions<TlsOptions>().BindConfiguration(TlsOptions.Section);
        services.AddDirectory();
        builder.AddAuth();
        services.AddMail();
        services.AddAudit().AddOrganizations().AddLicences().AddDevices();
        services.AddRegions().AddCredentials();
        services.AddOptions<PlaybackOptions>().BindConfiguration(PlaybackOptions.Section)
            .Validate(o => o.ReadUrlLifetime >= TimeSpan.FromMinutes(1) && o.ReadUrlLifetime <= TimeSpan.FromHours(12), "Playback:ReadUrlLifetime must be from 1 minute to 12 hours.")
            .ValidateOnStart();
        services.AddScoped<CallerContext>().AddSingleton<RecordingIndex>().AddScoped<TamperReports>().AddLiveView();
        services.AddRetention().AddDecommissioning();
        services.AddControlPlaneHealth();
        services.AddSingleton<OperationTable>();
        return builder;
    }

    /// <summary>The middleware every operation runs behind, in order, whichever front door it came through.</summary>
    public static IApplicationBuilder UseControlPlane(this IApplicationBuilder app)
    {
        app.UseFrontEndClientAddress();
        app.UseCloudStoreProblemDetails();
        app.UseResponseCompression();
        app.UseSecurityHeaders(SecurityHeaders.ApiContentSecurityPolicy, noStore: true);
        app.UseCors();
        app.UseAuthentication();
        app.UseDeletedOrganizationGate();
        app.UseAuthorization();
        return app;
    }

    /// <summary>
    /// Every HTTP operation, each named: the name is the Azure Function's name, and
    /// <c>FunctionsMetadataTests</c> holds the function app's routes equal to these.
    /// </summary>
    public static IEndpointRouteBuilder MapControlPlane(this IEndpointRouteBuilder app)
    {
        app.MapHealth();
        app.MapAuth();
        app.MapOrganizations();
        app.MapUsers();
        app.MapAccountLinks();
        app.MapLicences();
        app.MapDevices();
        app.MapAudit();
        app.MapCredentials();
        app.MapSegments();
        app.MapPlayback();
        app.MapLiveView();
        app.MapRetention();
        app.MapDecommissioning();
        return app;
    }

    /// <summary>Makes sure the schemas are current before the first request: migrates them, or refuses to start on an older one.</summary>
    public static async Task InitializeControlPlaneAsync(this IServiceProvider services, CancellationToken cancellationToken)
    {
        await services.InitializeDirectoryAsync(cancellationToken);
        var applyMigrations = services.GetRequiredService<IOptions<DirectoryOptions>>().Value.ApplyMigrationsOnStart;
        await services.GetRequiredService<RegionCatalog>().InitializeAsync(applyMigrations, cancellationToken);
    }
}
