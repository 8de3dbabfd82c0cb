namespace CloudStore.Contracts;

/// <param name="DefaultRetentionDays">Days recordings are kept for cameras without a retention of their own.</param>
public sealed record OrganizationResponse(Guid Id, string Name, bool RequireTwoFactorForAll, DateTimeOffset CreatedAt, string? HomeRegion, DateTimeOffset SubscriptionEndsAt, int DefaultRetentionDays = 30);

public sealed record OrganizationPolicyRequest(bool RequireTwoFactorForAll);

/// <summary>
/// Invite a person: their email address and role only. They choose their own password through the one-time link
/// the invitation mail carries, so no administrator ever knows it.
/// </summary>
public sealed record CreateUserRequest(string Email, string Role);

/// <param name="Invited">Invited and not yet accepted: no password, cannot sign in.</param>
/// <param name="InvitationExpiresAt">When the current invitation link expires (null when not invited, or when no link is pending).</param>
public sealed record UserResponse(
    Guid Id, string Email, string Role, bool TwoFactorEnabled, bool LockedOut, DateTimeOffset CreatedAt, bool Disabled = false,
    bool Invited = false, DateTimeOffset? InvitationExpiresAt = null);

/// <summary>The invited person accepts with the token from their invitation link and the password they choose.</summary>
public sealed record AcceptInvitationRequest(string Token, string Password);

/// <summary>A new password, with the token from the reset link an administrator had sent.</summary>
public sealed record CompletePasswordResetRequest(string Token, string NewPassword);

public sealed record ChangeRoleRequest(string Role);

/// <summary>
/// A device as the administrator creates it. No firmware version: the device reports its own with every
/// token request (the <c>firmware</c> claim of its signed assertion), so nobody types it.
/// </summary>
public sealed record CreateDeviceRequest(string Serial, string Model);

/// <param name="FirmwareVersion">The version the device last reported in its signed assertion; null until its first token request.</param>
/// <param name="FirmwareReportedAt">When it reported that version.</param>
public sealed record DeviceResponse(
    Guid Id,
    string Serial,
    string Model,
    string? FirmwareVersion,
    DateTimeOffset? FirmwareReportedAt,
    string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? EnrolledAt,
    DateTimeOffset? RevokedAt);

/// <summary>The one-time enrolment code, shown once to the administrator, to be entered on the device.</summary>
public sealed record EnrolmentCodeResponse(Guid DeviceId, string EnrolmentCode, DateTimeOffset ExpiresAt);

public sealed record CreateCameraRequest(string Name, int Channel);

/// <param name="FirmwareVersion">The firmware its device last reported; null until the device's first token request.</param>
/// <param name="RetentionDays">The camera's own retention in days; null: the organisation's default applies.</param>
/// <param name="DeletedAt">When an administrator deleted it; null while it is not deleted.</param>
/// <param name="RecordingsAfterDeletion">For a deleted camera, <c>delete</c> or <c>keep</c> (<see cref="RecordingsChoices"/>).</param>
public sealed record CameraResponse(
    Guid Id, Guid DeviceId, string Name, int Channel, bool Enabled, DateTimeOffset CreatedAt, string? FirmwareVersion, int? RetentionDays = null,
    DateTimeOffset? DeletedAt = null, string? RecordingsAfterDeletion = null);

/// <summary>A camera as the camera list shows it: where its recordings are stored and when the last one ended.</summary>
/// <param name="DeviceStatus">Pending, Active or Revoked.</param>
/// <param name="Region">The organisation's home region; null until chosen.</param>
/// <param name="LastRecordingEnd">The end of the camera's latest indexed segment; null when it has none.</param>
/// <param name="FirmwareVersion">The firmware its device last reported; null until the device's first token request.</param>
/// <param name="DeletedAt">When an administrator deleted it; a deleted camera is listed while recordings of it remain.</param>
/// <param name="RecordingsAfterDeletion">For a deleted camera, <c>delete</c> or <c>keep</c> (<see cref="RecordingsChoices"/>).</param>
/// <param name="RetentionDays">The camera's own retention in days; null: the organisation's default applies.</param>
public sealed record CameraOverviewResponse(
    Guid Id, Guid DeviceId, string Name, int Channel, bool Enabled, string DeviceStatus, string? Region, DateTimeOffset? LastRecordingEnd, string? FirmwareVersion,
    DateTimeOffset? DeletedAt = null, string? RecordingsAfterDeletion = null, int? RetentionDays = null);

/// <param name="Count">The attempts the entry stands for: 1, or for repeated refusals of a caller who proved nothing
/// (same address, actor, action and outcome within a minute) how many there were; Time and Target are the first's.</param>
public sealed record AuditEntryResponse(
    long Id,
    DateTimeOffset Time,
    string Actor,
    string SourceAddress,
    string Action,
    string Target,
    string Outcome,
    int Count = 1);

/// <param name="State">Free, Allocated or Lapsed.</param>
/// <param name="Source"><c>count</c> or <c>partner-key</c>.</param>
/// <param name="PartnerKeyHint">The last group of the partner key it came from; the key itself is not stored.</param>
/// <param name="CameraId">The camera holding it, when allocated.</param>
/// <param name="LapseReason">Why it lapsed, when lapsed.</param>
public sealed record LicenceResponse(
    Guid Id, string State, string Source, string? PartnerKeyHint, Guid? CameraId, DateTimeOffset AddedAt, DateTimeOffset? AllocatedAt, string? LapseReason);

/// <summary>Something administrators should know; <paramref name="Kind"/> is e.g. <c>subscription-ending</c> or <c>licences-lapsing</c>.</summary>
public sealed record NotificationResponse(Guid Id, string Kind, string Message, DateTimeOffset CreatedAt);

/// <param name="AllocationWindowEndsAt">Licences never allocated by then lapse (30 days after activation).</param>
public sealed record LicencesResponse(DateTimeOffset AllocationWindowEndsAt, int Free, int Allocated, int Lapsed, IReadOnlyList<LicenceResponse> Licences);
