using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Users;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace CloudStore.ControlPlane.Organizations;

/// <summary>What operations runs to activate the service for a customer: an organisation and its first administrator.</summary>
public sealed class OrganizationProvisioning(DirectoryDbContext db, UserManager<CloudStoreUser> users, AuditLog audit, TimeProvider time)
{
    public sealed record Provisioned(Organization Organization, CloudStoreUser Administrator);

    /// <param name="organizationId">A chosen id (for an organisation that single sign-on configuration already names), or null for a new one.</param>
    /// <exception cref="ArgumentException">The name or the administrator's email or password is not acceptable.</exception>
    public async Task<Provisioned> CreateAsync(
        string name, string administratorEmail, string administratorPassword, CancellationToken cancellationToken, Guid? organizationId = null)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Length > Limits.NameLength)
        {
            throw new ArgumentException($"An organisation name of 1 to {Limits.NameLength} characters is required.", nameof(name));
        }

        if (organizationId is { } chosen && await db.OrganizationTombstones.AnyAsync(t => t.OrganizationId == chosen, cancellationToken))
        {
            // Its keys are destroyed for good: the key server would never give it one again.
            throw new ArgumentException("An organisation with this id was deleted; choose another id.", nameof(organizationId));
        }

        var now = time.GetUtcNow();
        var organization = new Organization { Id = organizationId ?? Guid.NewGuid(), Name = name, CreatedAt = now, SubscriptionEndsAt = now.AddYears(1) };
        var administrator = new CloudStoreUser
        {
            Id = Guid.NewGuid(),
            OrganizationId = organization.Id,
            UserName = administratorEmail,
            Email = administratorEmail,
            Role = Roles.Administrator,
            CreatedAt = now,
        };

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        db.Organizations.Add(organization);
        audit.Add(organization.Id, "system", AuditActions.OrganizationCreated, $"organization:{organization.Id}", AuditLog.Success);
        await db.SaveChangesAsync(cancellationToken);
        var created = await users.CreateAsync(administrator, administratorPassword);
        if (!created.Succeeded)
        {
            throw new ArgumentException(string.Join(" ", created.Errors.Select(e => e.Description)), nameof(administratorPassword));
        }

        audit.Add(organization.Id, "system", AuditActions.UserCreated, $"user:{administrator.Id}", $"success:role={Roles.Administrator}");
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new Provisioned(organization, administrator);
    }

    /// <summary>Operations sets the end of an organisation's subscription (renewal, or ending it).</summary>
    /// <returns>False if there is no such organisation.</returns>
    public async Task<bool> SetSubscriptionEndAsync(Guid organizationId, DateTimeOffset endsAt, CancellationToken cancellationToken)
    {
        var organization = await db.Organizations.FindAsync([organizationId], cancellationToken);
        if (organization is null)
        {
            return false;
        }

        organization.SubscriptionEndsAt = endsAt;
        audit.Add(organizationId, "system", AuditActions.SubscriptionChanged, $"organization:{organizationId}", $"success:ends={endsAt:O}");
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }
}
