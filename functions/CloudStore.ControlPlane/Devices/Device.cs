namespace CloudStore.ControlPlane.Devices;

public enum DeviceStatus
{
    /// <summary>Created by an administrator; waits for the device to enrol with its one-time code.</summary>
    Pending,

    /// <summary>Enrolled: authenticates with assertions signed by its registered key.</summary>
    Active,

    /// <summary>Revoked by an administrator: refused everywhere, for good.</summary>
    Revoked,
}

/// <summary>A camera body (or recorder) that uploads recordings for one or more <see cref="Camera"/> channels.</summary>
public sealed class Device
{
    public Guid Id { get; set; }

    public Guid OrganizationId { get; set; }

    public required string Serial { get; set; }

    public required string Model { get; set; }

    /// <summary>
    /// The firmware version the device last reported, from the <c>firmware</c> claim of a correctly signed
    /// assertion (normalised, e.g. <c>11.11.73</c>); null until its first token request. The only firmware
    /// the enable and upload-grant rules trust: an administrator never types it.
    /// </summary>
    public string? ReportedFirmwareVersion { get; set; }

    /// <summary>When <see cref="ReportedFirmwareVersion"/> was last reported (the latest token request).</summary>
    public DateTimeOffset? FirmwareReportedAt { get; set; }

    public DeviceStatus Status { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>SHA-256 of the one-time enrolment code; the code itself is shown once and never stored.</summary>
    public byte[]? EnrolmentCodeHash { get; set; }

    public DateTimeOffset? EnrolmentExpiresAt { get; set; }

    /// <summary>The device's own ECDSA P-256 public key (SubjectPublicKeyInfo, DER), registered at enrolment.</summary>
    public byte[]? PublicKey { get; set; }

    public DateTimeOffset? EnrolledAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>One video channel of a device; recordings are stored and played per camera.</summary>
public sealed class Camera
{
    public Guid Id { get; set; }

    public Guid OrganizationId { get; set; }

    public Guid DeviceId { get; set; }

    public required string Name { get; set; }

    /// <summary>Channel number on the device, starting at 1.</summary>
    public int Channel { get; set; }

    /// <summary>Whether the camera uses a licence and may upload.</summary>
    public bool Enabled { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Days its recordings are kept (1–3,650); null: the organisation's default.</summary>
    public int? RetentionDays { get; set; }
}

/// <summary>A device assertion id already used: assertions are single-use (RFC 7523 §3, "jti").</summary>
public sealed class UsedAssertion
{
    public required string Id { get; set; }

    public Guid DeviceId { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }
}
