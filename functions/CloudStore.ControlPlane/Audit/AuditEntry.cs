namespace CloudStore.ControlPlane.Audit;

/// <summary>One security-relevant event. Append-only: the database refuses updates and deletes.</summary>
public sealed class AuditEntry
{
    public long Id { get; set; }

    public DateTimeOffset Time { get; set; }

    /// <summary>The organisation the event belongs to; null for events with no known organisation (a failed sign-in for an unknown name).</summary>
    public Guid? OrganizationId { get; set; }

    /// <summary>Who acted: <c>user:{id}</c>, <c>device:{id}</c>, <c>anonymous</c>, <c>system</c>, or an external subject.</summary>
    public required string Actor { get; set; }

    public required string SourceAddress { get; set; }

    /// <summary>What happened, from <see cref="AuditActions"/>.</summary>
    public required string Action { get; set; }

    /// <summary>What it happened to, such as <c>user:{id}</c> or <c>device:{id}</c>.</summary>
    public required string Target { get; set; }

    /// <summary><c>success</c> or <c>failure:{reason}</c>.</summary>
    public required string Outcome { get; set; }

    /// <summary>
    /// How many attempts the row stands for: 1, or for a row of repeated refusals (<see cref="RepeatKey"/>) every
    /// attempt in its window; <see cref="Time"/> and <see cref="Target"/> are then the first attempt's.
    /// </summary>
    public int Count { get; set; } = 1;

    /// <summary>
    /// Set on rows that count refusals of callers who proved nothing (see <see cref="AuditLog.WriteRefusalAsync"/>):
    /// the SHA-256 (hex) of window, organisation, actor, source address, action and outcome, unique, so each repeat
    /// adds one to <see cref="Count"/>, the one change the database allows to an audit row. Null on every other row.
    /// </summary>
    public string? RepeatKey { get; set; }
}

public static class AuditActions
{
    public const string SignIn = "auth.sign-in";
    public const string TokenRefresh = "auth.token-refresh";
    public const string SignOut = "auth.sign-out";
    public const string TwoFactorEnrolled = "auth.2fa-enrolled";
    public const string TwoFactorReset = "auth.2fa-reset";
    public const string RecoveryCodesRegenerated = "auth.recovery-codes-regenerated";
    public const string PasswordChanged = "auth.password-changed";
    public const string UserCreated = "user.created";
    public const string UserDisabled = "user.disabled";
    public const string UserEnabled = "user.enabled";
    public const string UserDeleted = "user.deleted";
    public const string RoleChanged = "user.role-changed";

    /// <summary>An administrator sent a new invitation link to someone who has not accepted yet; the old link stopped working.</summary>
    public const string InvitationResent = "user.invitation-resent";

    /// <summary>The invited person set their first password with the link (actor: the person; failures: anonymous, with why).</summary>
    public const string InvitationAccepted = "user.invitation-accepted";

    /// <summary>An administrator started a password reset: the person's sessions ended and a link was mailed.</summary>
    public const string PasswordResetStarted = "user.password-reset-started";

    /// <summary>A new password set with a reset link (actor: the person; failures: anonymous, with why).</summary>
    public const string PasswordReset = "auth.password-reset";

    /// <summary>The relay did not take an invitation or reset mail (outcome <c>failure:{purpose}</c>); the link was stored.</summary>
    public const string MailNotSent = "user.mail-not-sent";
    public const string OrganizationCreated = "organization.created";
    public const string OrganizationPolicyChanged = "organization.policy-changed";
    public const string OrganizationRegionChosen = "organization.region-chosen";
    public const string SubscriptionChanged = "organization.subscription-changed";
    public const string CredentialsIssued = "credentials.issued";
    public const string PlaylistIssued = "recordings.playlist-issued";

    /// <summary>A person watched a camera live: once per person and camera per <c>Live:AuditEvery</c>, not per playlist reload.</summary>
    public const string LiveWatched = "recordings.live-watched";

    /// <summary>
    /// A player found a stored segment or init segment altered (its SHA-256 not the index's) and did not play it; written
    /// at the file's first report only (outcome <c>failure:segment-altered|init-altered;seq=N;START/END</c>).
    /// </summary>
    public const string TamperDetected = "recordings.tamper-detected";

    /// <summary>A range of a camera's recordings exported as a file (decrypted in the person's browser).</summary>
    public const string Exported = "recordings.exported";
    public const string DeviceCreated = "device.created";

    /// <summary>A new enrolment code for a device that has not enrolled; the previous code stops working.</summary>
    public const string DeviceEnrolmentCodeIssued = "device.enrolment-code-issued";
    public const string DeviceEnrolled = "device.enrolled";
    public const string DeviceRevoked = "device.revoked";
    public const string DeviceAuthenticated = "device.authenticated";

    /// <summary>A device reported a firmware version different from the last one (outcome <c>success:OLD-&gt;NEW</c>).</summary>
    public const string DeviceFirmwareReported = "device.firmware-reported";

    public const string CameraCreated = "camera.created";
    public const string CameraEnabledChanged = "camera.enabled-changed";
    public const string SubscriptionNotice = "organization.subscription-notice";
    public const string LicencesAdded = "licences.added";
    public const string LicencesLapsed = "licences.lapsed";
    public const string LicenceNotice = "licences.notice";
    public const string RetentionSweep = "recordings.retention-sweep";
    public const string RetentionChanged = "recordings.retention-changed";
    public const string LegalHoldPlaced = "recordings.legal-hold-placed";
    public const string LegalHoldReleased = "recordings.legal-hold-released";

    /// <summary>An administrator deleted a camera (outcome <c>success:recordings=delete|keep;holds=N</c>).</summary>
    public const string CameraDeleted = "camera.deleted";

    /// <summary>The sweep removed a deleted camera once nothing of its recordings remained (objects left unindexed counted).</summary>
    public const string CameraPurged = "camera.purged";

    /// <summary>An administrator deleted (and so revoked) a device with its cameras.</summary>
    public const string DeviceDeleted = "device.deleted";

    /// <summary>The sweep removed a deleted device's row after its last camera.</summary>
    public const string DevicePurged = "device.purged";

    /// <summary>An organisation was deleted, by its administrator or by operations; refusals are audited too.</summary>
    public const string OrganizationDeleted = "organization.deleted";

    /// <summary>The key server destroyed the organisation's key in one region (crypto-shredding), or could not be reached.</summary>
    public const string OrganizationKeysDestroyed = "organization.keys-destroyed";

    /// <summary>The sweep deleted a deleted organisation's objects and index rows in one region.</summary>
    public const string OrganizationStorageCleared = "organization.storage-cleared";

    /// <summary>The sweep removed a deleted organisation's directory rows; its tombstone and audit entries stay.</summary>
    public const string OrganizationPurged = "organization.purged";
}
