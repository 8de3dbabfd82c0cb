namespace CloudStore.ControlPlane.Auth;

/// <summary>
/// A refresh token, stored as its SHA-256 only. Each use replaces it with a new one in the same
/// family; presenting a replaced token again revokes the whole family (stolen-token detection).
/// </summary>
public sealed class RefreshToken
{
    public Guid Id { get; set; }

    public required byte[] TokenHash { get; set; }

    public Guid FamilyId { get; set; }

    public Guid UserId { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? RevokedAt { get; set; }

    public DateTimeOffset? ReplacedAt { get; set; }

    /// <summary>How the session was authenticated (RFC 8176 <c>amr</c> values, space-separated), carried into each access token.</summary>
    public required string AuthenticationMethods { get; set; }
}

/// <summary>The state between a right password and the second step: single-use, short-lived.</summary>
public sealed class SignInChallenge
{
    public Guid Id { get; set; }

    public required byte[] TokenHash { get; set; }

    public Guid UserId { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    /// <summary>Whether the user must first enrol an authenticator (2FA required but not yet set up).</summary>
    public bool EnrolmentRequired { get; set; }

    public int FailedAttempts { get; set; }

    public bool Used { get; set; }
}
