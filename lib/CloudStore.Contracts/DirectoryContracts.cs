namespace CloudStore.Contracts;

public sealed record OrganizationResponse(Guid Id, string Name, bool RequireTwoFactorForAll, DateTimeOffset CreatedAt, string? HomeRegion, DateTimeOffset SubscriptionEndsAt);

public sealed record OrganizationPolicyRequest(bool RequireTwoFactorForAll);

public sealed record CreateUserRequest(string Email, string Role, string Password);

public sealed record UserResponse(Guid Id, string Email, string Role, bool TwoFactorEnabled, bool LockedOut, DateTimeOffset CreatedAt, bool Disabled = false);

public sealed record ChangeRoleRequest(string Role);

public sealed record CreateDeviceRequest(string Serial, string Model, string FirmwareVersion);

public sealed record DeviceResponse(
    Guid Id,
    string Serial,
    string Model,
    string FirmwareVersion,
    string Status,
    DateTimeOffset CreatedAt,
    DateTimeOffset? EnrolledAt,
    DateTimeOffset? RevokedAt);

/// <summary>The one-time enrolment code, shown once to the administrator, to be entered on the device.</summary>
public sealed record EnrolmentCodeResponse(Guid DeviceId, string EnrolmentCode, DateTimeOffset ExpiresAt);

public sealed record CreateCameraRequest(string Name, int Channel);

public sealed record CameraResponse(Guid Id, Guid DeviceId, string Name, int Channel, bool Enabled, DateTimeOffset CreatedAt);

/// <summary>A camera as the camera list shows it: where its recordings are stored and when the last one ended.</summary>
/// <param name="DeviceStatus">Pending, Active or Revoked.</param>
/// <param name="Region">The organisation's home region; null until chosen.</param>
/// <param name="LastRecordingEnd">The end of the camera's latest indexed segment; null when it has none.</param>
public sealed record CameraOverviewResponse(
    Guid Id, Guid DeviceId, string Name, int Channel, bool Enabled, string DeviceStatus, string? Region, DateTimeOffset? LastRecordingEnd);

public sealed record AuditEntryResponse(
    long Id,
    DateTimeOffset Time,
    string Actor,
    string SourceAddress,
    string Action,
    string Target,
    string Outcome);
