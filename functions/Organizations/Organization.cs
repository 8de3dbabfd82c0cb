namespace CloudStore.Functions.Organizations;

/// <summary>A tenant. Nothing of one organisation is visible to another.</summary>
public sealed class Organization
{
    public Guid Id { get; set; }

    public required string Name { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Whether operators and viewers must also use two-step verification; administrators always must.</summary>
    public bool RequireTwoFactorForAll { get; set; }
}
