namespace CloudStore.ControlPlane.Auth;

/// <summary>The <c>Auth</c> configuration section.</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>Public base URL of this API (with <c>/api</c>): the <c>iss</c> of every token we sign.</summary>
    public string Issuer { get; set; } = "https://localhost/api";

    /// <summary>PEM (PKCS#8) ECDSA P-256 key that signs access tokens; created with mode 0600 if missing.</summary>
    public string SigningKeyFile { get; set; } = ".local/functions/signing-key.pem";

    /// <summary>Access token lifetime; at most 15 minutes.</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(10);

    public TimeSpan RefreshTokenLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>How long the second sign-in step may wait after the password.</summary>
    public TimeSpan ChallengeLifetime { get; set; } = TimeSpan.FromMinutes(5);

    public int ChallengeMaxAttempts { get; set; } = 5;

    /// <summary>Per-account lockout: failed attempts (password or second step) before the account locks.</summary>
    public int LockoutThreshold { get; set; } = 5;

    public TimeSpan LockoutDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>Per-client limiter, as on the devices: this many failures within <see cref="ClientFailureWindow"/> ...</summary>
    public int ClientFailureLimit { get; set; } = 20;

    public TimeSpan ClientFailureWindow { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>... block the client's sign-in attempts (403) for this long.</summary>
    public TimeSpan ClientBlockDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A file holding the key of the trusted front end (the web player's server), which may forward the
    /// browser's address; empty: no front end is trusted and every address is the connection's.
    /// </summary>
    public string? FrontEndKeyFile { get; set; }

    public TimeSpan EnrolmentCodeLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long an invitation link may wait to be accepted; an administrator can send a new one after.</summary>
    public TimeSpan InvitationLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How long a password-reset link works: short, because it sets a password without the old one.</summary>
    public TimeSpan PasswordResetLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Device token lifetime (device access tokens are re-obtained with a fresh assertion).</summary>
    public TimeSpan DeviceTokenLifetime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Longest lifetime a device assertion may declare (RFC 7523 assertions are short).</summary>
    public TimeSpan DeviceAssertionMaxLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>External OpenID Connect issuers whose tokens are accepted (single sign-on).</summary>
    public List<ExternalIssuerOptions> ExternalIssuers { get; set; } = [];

    public string DeviceTokenEndpoint => Issuer.TrimEnd('/') + "/devices/token";
}

/// <summary>
/// One external identity provider. Its tokens are accepted for exactly one organisation; the role
/// comes from a claim, mapped through <see cref="RoleMap"/>. A token whose role does not map is refused.
/// </summary>
public sealed class ExternalIssuerOptions
{
    /// <summary>The provider's issuer URL; its discovery document and JWKS are read from there.</summary>
    public string Issuer { get; set; } = "";

    /// <summary>The audience the provider puts in tokens meant for CloudStore.</summary>
    public string Audience { get; set; } = "";

    /// <summary>
    /// The web player's client id at this provider: the audience of the ID tokens the player hands over at sign-in
    /// (<c>POST /api/auth/external</c>). Empty: the player offers no sign-in with this provider.
    /// </summary>
    public string? ClientId { get; set; }

    public Guid OrganizationId { get; set; }

    public string RoleClaim { get; set; } = "roles";

    /// <summary>External role value → CloudStore role (administrator, operator, viewer).</summary>
    public Dictionary<string, string> RoleMap { get; set; } = [];
}
