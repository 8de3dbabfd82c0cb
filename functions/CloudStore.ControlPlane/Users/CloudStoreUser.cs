using Microsoft.AspNetCore.Identity;

namespace CloudStore.ControlPlane.Users;

/// <summary>A person who signs in. Each user belongs to exactly one organisation, with one role there.</summary>
public sealed class CloudStoreUser : IdentityUser<Guid>
{
    public Guid OrganizationId { get; set; }

    /// <summary>One of <see cref="Contracts.Roles"/>' user roles.</summary>
    public required string Role { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>When an administrator disabled the account; a disabled user cannot sign in or refresh a session.</summary>
    public DateTimeOffset? DisabledAt { get; set; }
}
