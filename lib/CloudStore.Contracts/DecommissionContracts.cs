namespace CloudStore.Contracts;

/// <summary>
/// What happens to a deleted camera's recordings, as the administrator chooses in <c>?recordings=</c> when deleting a camera
/// or a device. There is no default: a deletion that would silently destroy recordings must be asked for.
/// </summary>
public static class RecordingsChoices
{
    /// <summary>The next hourly sweep deletes them (objects and index rows), except segments under an active legal hold.</summary>
    public const string Delete = "delete";

    /// <summary>They stay listed and playable until their retention ends; then the sweep deletes them as usual.</summary>
    public const string Keep = "keep";
}

/// <param name="Recordings"><c>delete</c> or <c>keep</c>.</param>
/// <param name="ActiveLegalHolds">Holds that keep part of its recordings whatever the choice, until released.</param>
/// <param name="Detail">What happens next, in words.</param>
public sealed record CameraDeletedResponse(Guid CameraId, DateTimeOffset DeletedAt, string Recordings, int ActiveLegalHolds, string Detail);

/// <param name="Cameras">Its cameras, each deleted with the same choice for its recordings.</param>
public sealed record DeviceDeletedResponse(Guid DeviceId, string Serial, DateTimeOffset DeletedAt, string Recordings, IReadOnlyList<CameraDeletedResponse> Cameras);

/// <summary>
/// Delete the caller's whole organisation. <paramref name="ConfirmName"/> is the organisation's name, typed; <paramref name="Code"/>
/// a fresh authenticator code (accepted once), so a stolen access token alone cannot do it.
/// </summary>
public sealed record DeleteOrganizationRequest(string ConfirmName, string Code);

/// <param name="KeysDestroyedIn">Regions whose key server has destroyed the organisation's key: nothing wrapped under it unwraps.</param>
/// <param name="KeysPendingIn">Regions not reached yet; the hourly sweep retries them before it deletes anything else.</param>
public sealed record OrganizationDeletionResponse(Guid OrganizationId, DateTimeOffset DeletedAt, IReadOnlyList<string> KeysDestroyedIn, IReadOnlyList<string> KeysPendingIn, string Detail);
