using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Auth;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Devices;
using CloudStore.ControlPlane.Platform;
using CloudStore.ControlPlane.Recordings;
using CloudStore.ControlPlane.Regional;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CloudStore.ControlPlane.Credentials;

/// <summary>The <c>Credentials</c> section.</summary>
public sealed class CredentialOptions
{
    public const string Section = "Credentials";

    /// <summary>
    /// How long an upload grant lasts: 5 to 15 minutes. A grant cannot be taken back once issued (a SAS or presigned URL),
    /// so this is how long a revoked device, a disabled camera or an ended subscription can still upload; each renewal
    /// (at 80 %) checks all three again. S3's <c>sts</c> grant mode needs 15 minutes, AssumeRole's shortest session.
    /// </summary>
    public TimeSpan Lifetime { get; set; } = MaxLifetime;

    public static readonly TimeSpan MinLifetime = TimeSpan.FromMinutes(5);

    public static readonly TimeSpan MaxLifetime = TimeSpan.FromMinutes(15);
}

/// <summary>
/// Step C: an enrolled, active device gets a short-lived grant (15 minutes by default) that lets it create new objects in one
/// of its cameras' storage in the organisation's home region, plus the public key to wrap data keys
/// under. The device's firmware is the version it last reported in its signed assertion (11.11.73 or later),
/// checked again here because it may have been downgraded since the camera was enabled. Every grant and every
/// refusal is audited; the grant itself never is.
/// </summary>
public static class CredentialEndpoints
{
    public static IServiceCollection AddCredentials(this IServiceCollection services)
    {
        services.AddOptions<CredentialOptions>().BindConfiguration(CredentialOptions.Section)
            .Validate(o => o.Lifetime >= CredentialOptions.MinLifetime && o.Lifetime <= CredentialOptions.MaxLifetime, "Credentials:Lifetime must be from 5 to 15 minutes.")
            .ValidateOnStart();
        services.AddOptions<KeyServerOptions>().BindConfiguration(KeyServerOptions.Section)
            .Validate(o => o.Url.Length == 0 || (Uri.TryCreate(o.Url, UriKind.Absolute, out var url) && url.Scheme == Uri.UriSchemeHttps), "KeyServer:Url must be the key server's https URL.")
            .ValidateOnStart();
        services.AddHttpClient<KeyServerClient>((provider, http) =>
            {
                if (Uri.TryCreate(provider.GetRequiredService<IOptions<KeyServerOptions>>().Value.Url, UriKind.Absolute, out var url))
                {
                    http.BaseAddress = new Uri(url.ToString().TrimEnd('/') + "/");
                }
            })
            .ConfigurePrimaryHttpMessageHandler(provider => TrustedHttp.CreateHandler(provider.GetRequiredService<IOptions<Hosting.TlsOptions>>().Value.CaCertificateFile));
        return services;
    }

    public static IEndpointRouteBuilder MapCredentials(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/credentials", Issue).WithName("IssueCredentials").WithTags("Upload").RequireAuthorization(Policies.Device)
            .WithSummary("Device: a create-only upload grant for one of its cameras, with the organisation's public key.");
        return app;
    }

    static async Task<Results<Ok<CredentialsResponse>, ValidationProblem, ProblemHttpResult>> Issue(
        CredentialsRequest request,
        HttpContext context,
        DirectoryDbContext db,
        RegionCatalog regions,
        KeyServerClient keyServer,
        AuditLog audit,
        IOptions<CredentialOptions> options,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var objectNames = request.ObjectNames ?? [];
        if (objectNames.Count > CredentialsRequest.MaxObjectNames || !objectNames.All(SegmentValidation.IsCameraObjectName))
        {
            return new Validation().Add(nameof(request.ObjectNames), $"At most {CredentialsRequest.MaxObjectNames} names under keys/, init/ or segments/.").Problem();
        }

        var caller = Caller.From(context.User);
        var deviceId = Guid.Parse(caller.Subject);
        var camera = await db.Cameras.SingleOrDefaultAsync(c => c.Id == request.CameraId && c.DeviceId == deviceId && c.OrganizationId == caller.OrganizationId, cancellationToken);
        var organization = await db.Organizations.SingleAsync(o => o.Id == caller.OrganizationId, cancellationToken);
        var reportedFirmware = await db.Devices.Where(d => d.Id == deviceId).Select(d => d.ReportedFirmwareVersion).SingleAsync(cancellationToken);
        var now = time.GetUtcNow();
        var refusal = (camera, organization) switch
        {
            (null, _) => (StatusCodes.Status404NotFound, "unknown-camera", "No such camera on this device."),
            ({ DeletedAt: not null }, _) => (StatusCodes.Status403Forbidden, "camera-deleted", "The camera was deleted by an administrator."),
            ({ Enabled: false }, _) => (StatusCodes.Status403Forbidden, "camera-disabled", "Cloud storage is not enabled for this camera."),
            _ when FirmwareVersion.CloudStorageRefusal(reportedFirmware) is { } firmware =>
                (StatusCodes.Status403Forbidden, reportedFirmware is null ? "firmware-not-reported" : $"firmware-too-old:{reportedFirmware}", firmware),
            (_, var o) when !o.SubscriptionActive(now) => (StatusCodes.Status403Forbidden, "subscription-ended", "The organisation's subscription has ended."),
            (_, { HomeRegion: null }) => (StatusCodes.Status409Conflict, "no-region", "The organisation has not chosen a region for its recordings."),
            (_, var o) when !regions.IsConfigured(o.HomeRegion!) => (StatusCodes.Status503ServiceUnavailable, "region-not-served", "The organisation's region is not served by this deployment."),
            _ => default((int, string, string)?),
        };
        var target = $"camera:{request.CameraId}";
        if (refusal is var (status, reason, detail))
        {
            await audit.WriteAsync(caller.OrganizationId, caller.Actor, AuditActions.CredentialsIssued, target, AuditLog.Failure(reason), cancellationToken);
            return TypedResults.Problem(title: "No upload grant", detail: detail, statusCode: status);
        }

        var region = organization.HomeRegion!;
        var expiresAt = now + options.Value.Lifetime;
        var publicKey = await keyServer.PublicKeyAsync(organization.Id, region, cancellationToken);
        var grant = await regions.Storage(region).GrantAsync(camera!.Id, objectNames, now, expiresAt, cancellationToken);
        audit.Add(caller.OrganizationId, caller.Actor, AuditActions.CredentialsIssued, target, $"success:region={region};expires={expiresAt:O}");
        await db.SaveChangesAsync(cancellationToken);

        // Renew when 80% of the lifetime has passed, well before expiry, so an upload in flight keeps a valid grant.
        var renewAt = now + (options.Value.Lifetime * 0.8);
        return TypedResults.Ok(new CredentialsResponse(
            organization.Id, camera.Id, region, grant.Kind, expiresAt, renewAt, publicKey,
            ContainerUrl: grant.ContainerUrl, SasToken: grant.SasToken, AccessKeyId: grant.AccessKeyId, SecretAccessKey: grant.SecretAccessKey,
            SessionToken: grant.SessionToken, Bucket: grant.Bucket, Url: grant.Url, Prefix: grant.Prefix, PutUrls: grant.PutUrls));
    }
}
