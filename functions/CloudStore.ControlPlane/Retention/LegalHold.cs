namespace CloudStore.ControlPlane.Retention;

/// <summary>
/// A time range of one camera's recordings kept beyond retention for a legal case, until an administrator
/// releases it. Released holds stay as a record of what was held, when and by whom.
/// </summary>
public sealed class LegalHold
{
    public const int CaseReferenceLength = 100;

    public Guid Id { get; set; }

    public Guid OrganizationId { get; set; }

    public Guid CameraId { get; set; }

    /// <summary>Start of the held range (included).</summary>
    public DateTimeOffset From { get; set; }

    /// <summary>End of the held range (excluded).</summary>
    public DateTimeOffset To { get; set; }

    /// <summary>The customer's reference for the case (1–100 printable characters).</summary>
    public required string CaseReference { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The administrator who placed it (<c>user:{id}</c>).</summary>
    public required string CreatedBy { get; set; }

    public DateTimeOffset? ReleasedAt { get; set; }

    public string? ReleasedBy { get; set; }

    public bool IsActive => ReleasedAt is null;
}
