using System.Security.Cryptography;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Auth;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Licences;
using CloudStore.ControlPlane.Platform;
using CloudStore.ControlPlane.Recordings;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CloudStore.ControlPlane.Devices;

/// <summary>
/// Devices and cameras. Administrators create a device with a one-time code; the device enrols with
/// that code and its own public key, then authenticates with signed assertions.
/// </summary>
public static class DeviceEndpoints
{
    public static IServiceCollection AddDevices(this IServiceCollection services) => services.AddScoped<DeviceAssertions>();

    public static IEndpointRouteBuilder MapDevices(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/api/devices").WithTags("Devices").RequireAuthorization(Policies.Administrator);
        admin.MapGet("/", List).WithName("ListDevices").WithSummary("The organisation's devices.");
        admin.MapPost("/", Create).WithName("CreateDevice").WithSummary("Create a device; returns its one-time enrolment code.");
        admin.MapGet("/{id:guid}", Get).WithName("GetDevice");
        admin.MapPost("/{id:guid}/enrolment-code", NewEnrolmentCode).WithName("NewDeviceEnrolmentCode").WithSummary("A new enrolment code for a device that has not enrolled yet.");
        admin.MapPost("/{id:guid}/revoke", Revoke).WithName("RevokeDevice").WithSummary("Revoke a device: refused everywhere from now on.");
        admin.MapPost("/{id:guid}/cameras", CreateCamera).WithName("CreateCamera").WithSummary("Add a camera (video channel) to a device.");

        var enrolment = app.MapGroup("/api/devices").WithTags("Device sign-in").AllowAnonymous();
        enrolment.MapPost("/enrol", Enrol).WithName("EnrolDevice").WithSummary("Device: enrol with the one-time code and register the device's public key.");
        enrolment.MapPost("/token", Token).WithName("DeviceToken").WithSummary("Device: exchange a signed assertion (RFC 7523) for a short-lived access token.");

        app.MapGet("/api/devices/self", Self).WithName("GetDeviceSelf").WithTags("Device sign-in").RequireAuthorization(Policies.Device)
            .WithSummary("Device: its own record and cameras.");

        var cameras = app.MapGroup("/api/cameras").WithTags("Cameras").RequireAuthorization(Policies.Member);
        cameras.MapGet("/", ListCameras).WithName("ListCameras").WithSummary("The organisation's cameras and their status.");
        cameras.MapGet("/{id:guid}", GetCamera).WithName("GetCamera");
        cameras.MapPost("/{id:guid}/enable", (Guid id, HttpContext context, DirectoryDbContext db, LicenceService licences, AuditLog audit, CancellationToken ct) => SetEnabled(id, true, context, db, licences, audit, ct)).WithName("EnableCamera")
            .RequireAuthorization(Policies.Administrator).WithSummary("Enable cloud storage for a camera: allocates a free licence; its device must have reported firmware 11.11.73 or later.");
        cameras.MapPost("/{id:guid}/disable", (Guid id, HttpContext context, DirectoryDbContext db, LicenceService licences, AuditLog audit, CancellationToken ct) => SetEnabled(id, false, context, db, licences, audit, ct)).WithName("DisableCamera")
            .RequireAuthorization(Policies.Administrator).WithSummary("Disable cloud storage for a camera: frees its licence.");
        return app;
    }

    static async Task<Ok<List<DeviceResponse>>> List(HttpContext context, DirectoryDbContext db, CancellationToken cancellationToken)
    {
        var caller = Caller.From(context.User);
        var devices = await db.Devices.Where(d => d.OrganizationId == caller.OrganizationId && d.DeletedAt == null).OrderBy(d => d.Serial).ToListAsync(cancellationToken);
        return TypedResults.Ok(devices.Select(ToResponse).ToList());
    }

    static async Task<Results<Ok<DeviceResponse>, ProblemHttpResult>> Get(Guid id, HttpContext context, DirectoryDbContext db, CancellationToken cancellationToken)
    {
        var device = await FindAsync(db, Caller.From(context.User), id, cancellationToken);
        return device is null ? Problems.NotFound("device") : TypedResults.Ok(ToResponse(device));
    }

    static async Task<Results<Created<EnrolmentCodeResponse>, ValidationProblem, ProblemHttpResult>> Create(
        CreateDeviceRequest request, HttpContext context, DirectoryDbContext db, AuditLog audit, IOptions<AuthOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        var validation = new Validation()
            .Text(nameof(request.Serial), request.Serial, Limits.SerialLength)
            .Text(nameof(request.Model), request.Model, Limits.NameLength);
        if (!request.Serial.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
        {
            validation.Add(nameof(request.Serial), "Letters, digits and '-' only.");
        }

        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        var caller = Caller.From(context.User);
        var serial = request.Serial.ToUpperInvariant();
        // A deleted device no longer holds its serial: the same camera body can be added again, as a new device.
        if (await db.Devices.AnyAsync(d => d.OrganizationId == caller.OrganizationId && d.Serial == serial && d.DeletedAt == null, cancellationToken))
        {
            return Problems.Conflict("A device with this serial number exists in the organisation.");
        }

        var now = time.GetUtcNow();
        var code = Secrets.NewEnrolmentCode();
        var device = new Device
        {
            Id = Guid.NewGuid(),
            OrganizationId = caller.OrganizationId,
            Serial = serial,
            Model = request.Model,
            Status = DeviceStatus.Pending,
            CreatedAt = now,
            EnrolmentCodeHash = Secrets.Hash(Secrets.NormaliseEnrolmentCode(code)),
            EnrolmentExpiresAt = now + options.Value.EnrolmentCodeLifetime,
        };
        db.Devices.Add(device);
        audit.Add(caller.OrganizationId, caller.Actor, AuditActions.DeviceCreated, $"device:{device.Id}", AuditLog.Success);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/devices/{device.Id}", new EnrolmentCodeResponse(device.Id, code, device.EnrolmentExpiresAt.Value));
    }

    static async Task<Results<Ok<EnrolmentCodeResponse>, ProblemHttpResult>> NewEnrolmentCode(
        Guid id, HttpContext context, DirectoryDbContext db, IOptions<AuthOptions> options, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var caller = Caller.From(context.User);
        var device = await FindAsync(db, caller, id, cancellationToken);
        if (device is null)
        {
            return Problems.NotFound("device");
        }

        if (device.Status != DeviceStatus.Pending)
        {
            return Problems.Conflict("The device has already enrolled or is revoked.");
        }

        var code = Secrets.NewEnrolmentCode();
        device.EnrolmentCodeHash = Secrets.Hash(Secrets.NormaliseEnrolmentCode(code));
        device.EnrolmentExpiresAt = time.GetUtcNow() + options.Value.EnrolmentCodeLifetime;
        audit.Add(caller.OrganizationId, caller.Actor, AuditActions.DeviceEnrolmentCodeIssued, $"device:{device.Id}", AuditLog.Success);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new EnrolmentCodeResponse(device.Id, code, device.EnrolmentExpiresAt.Value));
    }

    static async Task<Results<NoContent, ProblemHttpResult>> Revoke(
        Guid id, HttpContext context, DirectoryDbContext db, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var caller = Caller.From(context.User);
        var device = await FindAsync(db, caller, id, cancellationToken);
        if (device is null)
        {
            return Problems.NotFound("device");
        }

        if (device.Status != DeviceStatus.Revoked)
        {
            device.Status = DeviceStatus.Revoked;
            device.RevokedAt = time.GetUtcNow();
            device.EnrolmentCodeHash = null;
            audit.Add(caller.OrganizationId, caller.Actor, AuditActions.DeviceRevoked, $"device:{device.Id}", AuditLog.Success);
            await db.SaveChangesAsync(cancellationToken);
        }

        return TypedResults.NoContent();
    }

    static async Task<Results<Ok<EnrolDeviceResponse>, ValidationProblem, ProblemHttpResult>> Enrol(
        EnrolDeviceRequest request, DirectoryDbContext db, AuditLog audit, IOptions<AuthOptions> options, TimeProvider time, CancellationToken cancellationToken)
    {
        var validation = new Validation()
            .Text(nameof(request.EnrolmentCode), request.EnrolmentCode, 64)
            .Text(nameof(request.Serial), request.Serial, Limits.SerialLength)
            .Text(nameof(request.PublicKey), request.PublicKey, 512);
        var publicKey = validation.HasErrors ? null : ReadP256PublicKey(request.PublicKey);
        if (!validation.HasErrors && publicKey is null)
        {
            validation.Add(nameof(request.PublicKey), "A base64 SubjectPublicKeyInfo of an ECDSA P-256 key.");
        }

        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        var now = time.GetUtcNow();
        var hash = Secrets.Hash(Secrets.NormaliseEnrolmentCode(request.EnrolmentCode));
        var device = await db.Devices.SingleOrDefaultAsync(d => d.EnrolmentCodeHash == hash, cancellationToken);
        var refusal = device switch
        {
            null => "unknown-code",
            { Status: not DeviceStatus.Pending } => "not-pending",
            { EnrolmentExpiresAt: var expires } when expires <= now => "code-expired",
            _ when !string.Equals(device.Serial, request.Serial, StringComparison.OrdinalIgnoreCase) => "serial-mismatch",
            _ => null,
        };
        if (refusal is not null)
        {
            // One answer for every refusal: a code reveals nothing about the device it belongs to.
            await audit.WriteRefusalAsync(device?.OrganizationId, "anonymous", AuditActions.DeviceEnrolled, device is null ? "device:unknown" : $"device:{device.Id}", AuditLog.Failure(refusal), cancellationToken);
            return Problems.BadRequest("Enrolment refused", "The enrolment code is not valid for this device. Ask an administrator for a new code.");
        }

        // The code is consumed by one conditional update: of parallel enrolments with it exactly one registers its key
        // (on PostgreSQL two tracked updates would both succeed, the last key winning).
        var claimed = await db.Devices
            .Where(d => d.Id == device!.Id && d.Status == DeviceStatus.Pending && d.EnrolmentCodeHash == hash)
            .ExecuteUpdateAsync(set => set
                .SetProperty(d => d.Status, DeviceStatus.Active)
                .SetProperty(d => d.PublicKey, publicKey)
                .SetProperty(d => d.EnrolledAt, now)
                .SetProperty(d => d.EnrolmentCodeHash, (byte[]?)null)
                .SetProperty(d => d.EnrolmentExpiresAt, (DateTimeOffset?)null), cancellationToken);
        if (claimed == 0)
        {
            await audit.WriteRefusalAsync(device!.OrganizationId, "anonymous", AuditActions.DeviceEnrolled, $"device:{device.Id}", AuditLog.Failure("code-already-used"), cancellationToken);
            return Problems.BadRequest("Enrolment refused", "The enrolment code is not valid for this device. Ask an administrator for a new code.");
        }

        audit.Add(device!.OrganizationId, $"device:{device.Id}", AuditActions.DeviceEnrolled, $"device:{device.Id}", AuditLog.Success);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(new EnrolDeviceResponse(device.Id, device.OrganizationId, options.Value.DeviceTokenEndpoint, options.Value.DeviceTokenEndpoint));
    }

    static async Task<Results<Ok<TokenResponse>, ValidationProblem, ProblemHttpResult>> Token(
        DeviceTokenRequest request, DeviceAssertions assertions, AccessTokens tokens, AuditLog audit, CancellationToken cancellationToken)
    {
        var validation = new Validation().Text("client_assertion", request.ClientAssertion, 4096);
        if (request.ClientAssertionType != DeviceTokenRequest.JwtBearerAssertionType)
        {
            validation.Add("client_assertion_type", $"Must be {DeviceTokenRequest.JwtBearerAssertionType}.");
        }

        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        var (device, refusal) = await assertions.ValidateAsync(request.ClientAssertion, cancellationToken);
        if (refusal is not null || device is null)
        {
            await audit.WriteRefusalAsync(device?.OrganizationId, device is null ? "anonymous" : $"device:{device.Id}", AuditActions.DeviceAuthenticated,
                device is null ? "device:unknown" : $"device:{device.Id}", AuditLog.Failure(refusal ?? "unknown"), cancellationToken);
            if (refusal == DeviceAssertions.BadFirmwareClaim)
            {
                // Said only to a caller that proved possession of the device's key (the signature is checked first).
                return new Validation().Add(DeviceTokenRequest.FirmwareClaim,
                    $"The assertion must carry the device's firmware version in the '{DeviceTokenRequest.FirmwareClaim}' claim: a string such as 11.11.73 (two to four numbers), at most {Limits.FirmwareLength} characters.").Problem();
            }

            return refusal == DeviceAssertions.Revoked
                ? Problems.Forbidden("Device revoked", "This device has been revoked by an administrator; it can no longer sign in.")
                : TypedResults.Problem(title: "Device assertion not accepted", statusCode: StatusCodes.Status401Unauthorized);
        }

        return TypedResults.Ok(tokens.ForDevice(device.Id, device.OrganizationId));
    }

    static async Task<Results<Ok<DeviceSelfResponse>, ProblemHttpResult>> Self(HttpContext context, DirectoryDbContext db, CancellationToken cancellationToken)
    {
        var caller = Caller.From(context.User);
        var deviceId = Guid.Parse(caller.Subject);
        var device = await db.Devices.SingleOrDefaultAsync(d => d.Id == deviceId && d.OrganizationId == caller.OrganizationId, cancellationToken);
        if (device is null)
        {
            return Problems.NotFound("device");
        }

        var cameras = await db.Cameras.Where(c => c.DeviceId == device.Id && c.DeletedAt == null).OrderBy(c => c.Channel).ToListAsync(cancellationToken);
        return TypedResults.Ok(new DeviceSelfResponse(device.Id, device.OrganizationId, device.Serial, device.Status.ToString(), [.. cameras.Select(c => ToResponse(c, device))]));
    }

    static async Task<Results<Created<CameraResponse>, ValidationProblem, ProblemHttpResult>> CreateCamera(
        Guid id, CreateCameraRequest request, HttpContext context, DirectoryDbContext db, AuditLog audit, TimeProvider time, CancellationToken cancellationToken)
    {
        var validation = new Validation().Text(nameof(request.Name), request.Name, Limits.NameLength);
        if (request.Channel is < 1 or > 64)
        {
            validation.Add(nameof(request.Channel), "From 1 to 64.");
        }

        if (validation.HasErrors)
        {
            return validation.Problem();
        }

        var caller = Caller.From(context.User);
        var device = await FindAsync(db, caller, id, cancellationToken);
        if (device is null)
        {
            return Problems.NotFound("device");
        }

        if (await db.Cameras.AnyAsync(c => c.DeviceId == id && c.Channel == request.Channel && c.DeletedAt == null, cancellationToken))
        {
            return Problems.Conflict("The device already has a camera on this channel.");
        }

        var camera = new Camera
        {
            Id = Guid.NewGuid(),
            OrganizationId = caller.OrganizationId,
            DeviceId = device.Id,
            Name = request.Name,
            Channel = request.Channel,
            CreatedAt = time.GetUtcNow(),
        };
        db.Cameras.Add(camera);
        audit.Add(caller.OrganizationId, caller.Actor, AuditActions.CameraCreated, $"camera:{camera.Id}", AuditLog.Success);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/cameras/{camera.Id}", ToResponse(camera, device));
    }

    /// <summary>
    /// The cameras with what a person scanning the list needs: the region their recordings are stored in,
    /// when the last recording ended (from the region's index: one indexed look-up per camera), and the
    /// status of the device.
    /// </summary>
    static async Task<Ok<List<CameraOverviewResponse>>> ListCameras(
        CallerContext caller, DirectoryDbContext db, RecordingIndex recordings, CancellationToken cancellationToken)
    {
        var organizationId = caller.Caller.OrganizationId;
        var cameras = await db.Cameras.Where(c => c.OrganizationId == organizationId)
            .Join(db.Devices, c => c.DeviceId, d => d.Id, (c, d) => new { Camera = c, DeviceStatus = d.Status, Firmware = d.ReportedFirmwareVersion })
            .OrderBy(c => c.Camera.Name)
            .ToListAsync(cancellationToken);
        var served = await caller.ServedRegionAsync(cancellationToken);
        var lastRecordings = served is null || cameras.Count == 0
            ? new Dictionary<Guid, DateTimeOffset>()
            : await recordings.LastRecordingEndsAsync(served, cameras.Select(c => c.Camera.Id), cancellationToken);
        var region = await caller.HomeRegionAsync(cancellationToken);
        return TypedResults.Ok(cameras.Select(c => new CameraOverviewResponse(
                c.Camera.Id, c.Camera.DeviceId, c.Camera.Name, c.Camera.Channel, c.Camera.Enabled, c.DeviceStatus.ToString(),
                region, lastRecordings.TryGetValue(c.Camera.Id, out var end) ? end : null, c.Firmware, c.Camera.DeletedAt, Choice(c.Camera), c.Camera.RetentionDays))
            .ToList());
    }

    static async Task<Results<Ok<CameraResponse>, ProblemHttpResult>> GetCamera(Guid id, HttpContext context, DirectoryDbContext db, CancellationToken cancellationToken)
    {
        var caller = Caller.From(context.User);
        var camera = await db.Cameras.Where(c => c.Id == id && c.OrganizationId == caller.OrganizationId)
            .Join(db.Devices, c => c.DeviceId, d => d.Id, (c, d) => new { Camera = c, Device = d })
            .SingleOrDefaultAsync(cancellationToken);
        return camera is null ? Problems.NotFound("camera") : TypedResults.Ok(ToResponse(camera.Camera, camera.Device));
    }

    static async Task<Results<Ok<CameraResponse>, ProblemHttpResult>> SetEnabled(
        Guid id, bool enabled, HttpContext context, DirectoryDbContext db, LicenceService licences, AuditLog audit, CancellationToken cancellationToken)
    {
        var caller = Caller.From(context.User);
        var camera = await db.Cameras.SingleOrDefaultAsync(c => c.Id == id && c.OrganizationId == caller.OrganizationId, cancellationToken);
        if (camera is null)
        {
            return Problems.NotFound("camera");
        }

        if (camera.DeletedAt is not null)
        {
            return Problems.Conflict("Camera deleted", "A deleted camera cannot be enabled or disabled; its recordings are deleted or kept as chosen when it was deleted.");
        }

        var device = await db.Devices.SingleAsync(d => d.Id == camera.DeviceId, cancellationToken);
        // The version the device itself last reported in a signed assertion: nobody can type a camera past the rule.
        if (enabled && FirmwareVersion.CloudStorageRefusal(device.ReportedFirmwareVersion) is { } refusal)
        {
            await audit.WriteAsync(caller.OrganizationId, caller.Actor, AuditActions.CameraEnabledChanged, $"camera:{camera.Id}",
                AuditLog.Failure(device.ReportedFirmwareVersion is null ? "firmware-not-reported" : $"firmware-too-old:{device.ReportedFirmwareVersion}"), cancellationToken);
            return Problems.Conflict(device.ReportedFirmwareVersion is null ? "Firmware not reported" : "Firmware too old", refusal);
        }

        if (camera.Enabled != enabled)
        {
            // The licence and the camera change together or not at all.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            if (enabled && !await licences.AllocateAsync(caller.OrganizationId, camera.Id, cancellationToken))
            {
                await transaction.RollbackAsync(cancellationToken);
                await audit.WriteAsync(caller.OrganizationId, caller.Actor, AuditActions.CameraEnabledChanged, $"camera:{camera.Id}", AuditLog.Failure("no-free-licence"), cancellationToken);
                return Problems.Conflict("No free licence",
                    "Enabling a camera uses a licence, and the organisation has none free: every licence is allocated to another camera or has lapsed. Disable a camera to free its licence, or ask for more licences.");
            }

            if (!enabled)
            {
                await licences.FreeAsync(camera.Id, cancellationToken);
            }

            camera.Enabled = enabled;
            audit.Add(caller.OrganizationId, caller.Actor, AuditActions.CameraEnabledChanged, $"camera:{camera.Id}", enabled ? "success:enabled" : "success:disabled");
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        return TypedResults.Ok(ToResponse(camera, device));
    }

    /// <summary>A device of the caller's organisation; a deleted one is gone for the API.</summary>
    static Task<Device?> FindAsync(DirectoryDbContext db, Caller caller, Guid id, CancellationToken cancellationToken) =>
        db.Devices.SingleOrDefaultAsync(d => d.Id == id && d.OrganizationId == caller.OrganizationId && d.DeletedAt == null, cancellationToken);

    static byte[]? ReadP256PublicKey(string base64)
    {
        try
        {
            var der = Convert.FromBase64String(base64);
            using var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(der, out var read);
            var parameters = key.ExportParameters(false);
            return read == der.Length && parameters.Curve.Oid.Value == ECCurve.NamedCurves.nistP256.Oid.Value ? der : null;
        }
        catch (Exception e) when (e is FormatException or CryptographicException)
        {
            return null;
        }
    }

    static DeviceResponse ToResponse(Device d) =>
        new(d.Id, d.Serial, d.Model, d.ReportedFirmwareVersion, d.FirmwareReportedAt, d.Status.ToString(), d.CreatedAt, d.EnrolledAt, d.RevokedAt);

    static CameraResponse ToResponse(Camera c, Device d) =>
        new(c.Id, c.DeviceId, c.Name, c.Channel, c.Enabled, c.CreatedAt, d.ReportedFirmwareVersion, c.RetentionDays, c.DeletedAt, Choice(c));

    static string? Choice(Camera c) => c.RecordingsAfterDeletion is { } choice ? Decommissioning.RecordingsChoiceText.ToText(choice) : null;
}
