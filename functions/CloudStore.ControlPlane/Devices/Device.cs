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

    /// <summary>
    /// When an administrator deleted it: revoked at that moment, its key forgotten, its serial free for a new device.
    /// The row stays (hidden from the API) until the sweep has removed its last camera.
    /// </summary>
    public DateTimeOffset? DeletedAt { get; set; }
}

/// <summary>What happens to a deleted camera's recordings: the administrator chooses, there is no default.</summary>
public enum RecordingsChoice
{
    /// <summary>The next sweep deletes them all, except segments under an active legal hold (kept until released).</summary>
    Delete,

    /// <summary>They stay listed and playable until their retention ends, then the sweep deletes them as usual.</summary>
    Keep,
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

    /// <summary>
    /// When an administrator deleted it (itself or its device): no licence, no upload grant, no indexing from then on.
    /// The row stays while recordings of it remain, so they can be played and found by the sweep.
    /// </summary>
    public DateTimeOffset? DeletedAt { get; set; }

    /// <summary>The administrator's choice for its recordings when it was deleted; null while it is not deleted.</summary>
    public RecordingsChoice? RecordingsAfterDeletion { get; set; }
}

/// <summary>A device assertion id already used: assertions are single-use (RFC 7523 §3, "jti").</summary>
public sealed class UsedAssertion
{
    public required string Id { get; set; }

    public Guid DeviceId { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }
}
