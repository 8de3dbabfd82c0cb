using System.Security.Claims;
using CloudStore.Contracts;

namespace CloudStore.ControlPlane.Platform;

/// <summary>Who is calling, read from a validated access token. Every query is scoped by <see cref="OrganizationId"/>.</summary>
public sealed record Caller(string Subject, Guid OrganizationId, string Role)
{
    /// <summary>The audit log's name for the caller.</summary>
    public string Actor => Subject.StartsWith("ext:", StringComparison.Ordinal)
        ? Subject
        : (Role == Roles.Device ? "device:" : "user:") + Subject;

    /// <summary>The directory user id, or null for devices and external (single sign-on) users.</summary>
    public Guid? UserId => Role != Roles.Device && Guid.TryParse(Subject, out var id) ? id : null;

    public static Caller From(ClaimsPrincipal principal)
    {
        var subject = principal.FindFirstValue(ClaimNames.Subject);
        var organization = principal.FindFirstValue(ClaimNames.Organization);
        var role = principal.FindFirstValue(ClaimNames.Role);
        if (subject is null || role is null || !Guid.TryParse(organization, out var organizationId))
        {
            // Authentication guarantees these claims; reaching here is a bug, not bad input.
            throw new InvalidOperationException("An authenticated principal lacks sub, org or role.");
        }

        return new Caller(subject, organizationId, role);
    }
}
