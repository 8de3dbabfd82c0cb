namespace CloudStore.Contracts;

/// <param name="Days">Days the camera's recordings are kept (1–3,650); null: the organisation's default.</param>
public sealed record CameraRetentionRequest(int? Days = null);

/// <param name="RetentionDays">The camera's own retention; null when it follows the organisation's default.</param>
/// <param name="EffectiveRetentionDays">The retention the sweep applies to it.</param>
public sealed record CameraRetentionResponse(Guid CameraId, int? RetentionDays, int EffectiveRetentionDays);

/// <param name="Days">Default days recordings are kept (1–3,650) for cameras without their own.</param>
public sealed record OrganizationRetentionRequest(int Days);

public sealed record OrganizationRetentionResponse(int DefaultRetentionDays);

/// <summary>Put a camera's recordings from <paramref name="From"/> (included) to <paramref name="To"/> (excluded) on legal hold.</summary>
/// <param name="CaseReference">The case the hold is for: 1–100 printable characters.</param>
public sealed record CreateLegalHoldRequest(DateTimeOffset From, DateTimeOffset To, string CaseReference);

/// <param name="ReleasedAt">Null while the hold is active.</param>
public sealed record LegalHoldResponse(
    Guid Id, Guid CameraId, DateTimeOffset From, DateTimeOffset To, string CaseReference, DateTimeOffset CreatedAt, string CreatedBy, DateTimeOffset? ReleasedAt, string? ReleasedBy);
