using System.Security.Cryptography;
using CloudStore.ControlPlane.Data;
using System.Text.Json;
using CloudStore.Contracts;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Auth;

namespace CloudStore.ControlPlane.Devices;

/// <summary>
/// Checks device assertions (RFC 7523 §3): a JWT the device signs with its own P-256 key, with
/// <c>iss</c> = <c>sub</c> = its device id, <c>aud</c> = our device token endpoint, a short lifetime
/// and a unique <c>jti</c>. Each assertion is accepted once. No reusable secret exists anywhere.
/// The assertion also carries the device's firmware version (<see cref="DeviceTokenRequest.FirmwareClaim"/>):
/// an accepted assertion records it on the device as the version last reported, in the same write that
/// spends the <c>jti</c>.
/// </summary>
public sealed class DeviceAssertions(DirectoryDbContext db, AuditLog audit, IOptions<AuthOptions> options, TimeProvider time)
{
    /// <summary>The refusal for a correctly signed assertion of a revoked device.</summary>
    public const string Revoked = "device-revoked";

    /// <summary>The refusal for a correctly signed assertion whose firmware claim is missing or not a version.</summary>
    public const string BadFirmwareClaim = "bad-firmware-claim";

    static readonly TimeSpan Skew = TimeSpan.FromSeconds(30);
    readonly JsonWebTokenHandler _handler = new();

    /// <summary>The assertion's claims, unverified; null when it only looks like a JWT (three dot-separated parts that are not base64url JSON).</summary>
    JsonWebToken? Read(string assertion)
    {
        try
        {
            return _handler.ReadJsonWebToken(assertion);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <returns>The device, or a reason for the audit log when the assertion is refused.</returns>
    public async Task<(Device? Device, string? Refusal)> ValidateAsync(string assertion, CancellationToken cancellationToken)
    {
        if (!_handler.CanReadToken(assertion) || Read(assertion) is not { } unverified)
        {
            return (null, "malformed");
        }

        if (!Guid.TryParse(unverified.Issuer, out var deviceId) || unverified.Subject != unverified.Issuer)
        {
            return (null, "bad-issuer");
        }

        var device = await db.Devices.SingleOrDefaultAsync(d => d.Id == deviceId, cancellationToken);
        if (device is null || device.PublicKey is null)
        {
            return (null, "unknown-device");
        }

        using var publicKey = ECDsa.Create();
        publicKey.ImportSubjectPublicKeyInfo(device.PublicKey, out _);
        var result = await _handler.ValidateTokenAsync(assertion, new TokenValidationParameters
        {
            ValidIssuer = device.Id.ToString(),
            ValidAudience = options.Value.DeviceTokenEndpoint,
            // No provider cache: it would keep this request's key object, which is disposed when the request ends.
            IssuerSigningKey = new ECDsaSecurityKey(publicKey) { CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false } },
            ValidAlgorithms = [SecurityAlgorithms.EcdsaSha256],
            RequireExpirationTime = true,
            LifetimeValidator = (_, _, token, _) => IsShortAndCurrent((JsonWebToken)token),
        });
        if (!result.IsValid)
        {
            return (device, "invalid-assertion");
        }

        // Only a caller who proved possession of the device's key learns that the device is revoked.
        if (device.Status != DeviceStatus.Active)
        {
            return (device, Revoked);
        }

        var token = (JsonWebToken)result.SecurityToken;
        if (string.IsNullOrEmpty(token.Id) || token.Id.Length > Limits.AssertionIdLength)
        {
            return (device, "missing-jti");
        }

        if (ReadFirmware(token) is not { } firmware)
        {
            return (device, BadFirmwareClaim);
        }

        return await RecordUseAsync(device, token, firmware, cancellationToken) ? (device, null) : (device, "replayed");
    }

    /// <summary>
    /// The firmware claim as a version, or null when it is absent, not a JSON string (the token library would
    /// flatten an array to its first element, so the signed payload itself is read), too long or not a version.
    /// </summary>
    static FirmwareVersion? ReadFirmware(JsonWebToken token)
    {
        using var payload = JsonDocument.Parse(Base64UrlEncoder.DecodeBytes(token.EncodedPayload));
        return payload.RootElement.TryGetProperty(DeviceTokenRequest.FirmwareClaim, out var claim)
            && claim.ValueKind == JsonValueKind.String
            && claim.GetString() is { Length: <= Limits.FirmwareLength } text
            && FirmwareVersion.TryParse(text, out var version)
                ? version
                : null;
    }

    bool IsShortAndCurrent(JsonWebToken token)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var maximum = options.Value.DeviceAssertionMaxLifetime;
        return token.ValidTo != DateTime.MinValue
            && token.IssuedAt != DateTime.MinValue
            && token.IssuedAt <= now + Skew
            && token.ValidTo > now - Skew
            && token.ValidTo - token.IssuedAt <= maximum
            && token.ValidTo - now <= maximum + Skew;
    }

    /// <returns>False when this assertion id was used before (a replay).</returns>
    async Task<bool> RecordUseAsync(Device device, JsonWebToken token, FirmwareVersion firmware, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await db.UsedAssertions.Where(u => u.ExpiresAt < now - Skew).ExecuteDeleteAsync(cancellationToken);
        if (await db.UsedAssertions.AnyAsync(u => u.DeviceId == device.Id && u.Id == token.Id, cancellationToken))
        {
            return false;
        }

        db.UsedAssertions.Add(new UsedAssertion { Id = token.Id, DeviceId = device.Id, ExpiresAt = new DateTimeOffset(token.ValidTo, TimeSpan.Zero) + Skew });
        var reported = firmware.ToString();
        if (device.ReportedFirmwareVersion != reported)
        {
            // An upgrade (or a first report) is a configuration change the administrator may need to trace.
            audit.Add(device.OrganizationId, $"device:{device.Id}", AuditActions.DeviceFirmwareReported, $"device:{device.Id}",
                $"success:{device.ReportedFirmwareVersion ?? "none"}->{reported}");
        }

        device.ReportedFirmwareVersion = reported;
        device.FirmwareReportedAt = now;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            // The same assertion raced in on another request: the primary key admitted one of them.
            db.ChangeTracker.Clear();
            return false;
        }
    }
}
