namespace CloudStore.ControlPlane.Users;

/// <summary>What a one-time account link lets its holder do.</summary>
public static class AccountTokenPurposes
{
    /// <summary>An invited person sets their first password.</summary>
    public const string Invitation = "invitation";

    /// <summary>A person sets a new password after an administrator started a reset.</summary>
    public const string PasswordReset = "password-reset";
}

/// <summary>
/// A one-time link sent by mail (an invitation or a password reset). Only the SHA-256 of its 256-bit secret is stored,
/// so a copy of the directory opens nothing. It is used at most once (<see cref="UsedAt"/> is claimed by a conditional
/// update, so of parallel requests exactly one wins) and not after <see cref="ExpiresAt"/>. A new link for the same
/// person and purpose deletes the old one.
/// </summary>
public sealed class AccountToken
{
    public Guid Id { get; set; }

    public Guid UserId { get; set; }

    /// <summary>One of <see cref="AccountTokenPurposes"/>.</summary>
    public required string Purpose { get; set; }

    public required byte[] TokenHash { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }

    public DateTimeOffset? UsedAt { get; set; }
}
