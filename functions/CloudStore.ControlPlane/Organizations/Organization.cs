namespace CloudStore.ControlPlane.Organizations;

/// <summary>A tenant. Nothing of one organisation is visible to another.</summary>
public sealed class Organization
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>
    /// Two-step verification for every role. Always true: the product is secure by default and the policy may not be
    /// switched off (kept as a column and in the API so that a client asking to turn it off gets a clear refusal).
    /// </summary>
    public bool RequireTwoFactorForAll { get; set; } = true;

    /// <summary>Where the organisation's recordings, index rows and keys live; chosen once by an administrator.</summary>
    public string? HomeRegion { get; set; }

    /// <summary>End of the subscription (one year from activation); after it devices get no upload grants.</summary>
    public DateTimeOffset SubscriptionEndsAt { get; set; }

    /// <summary>Days recordings are kept (1–3,650) for cameras without a retention of their own.</summary>
    public int DefaultRetentionDays { get; set; } = Retention.RetentionRules.DefaultDays;

    /// <summary>
    /// When the organisation was deleted: from that moment no sign-in, token or device credential of it is accepted.
    /// The row goes once the sweep has removed everything of it; a tombstone stays.
    /// </summary>
    public DateTimeOffset? DeletedAt { get; set; }

    public bool SubscriptionActive(DateTimeOffset now) => now < SubscriptionEndsAt;
}
