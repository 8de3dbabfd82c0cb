using System.Security.Cryptography;
using System.Text;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Auth;
using CloudStore.ControlPlane.Credentials;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Devices;
using CloudStore.ControlPlane.Organizations;
using CloudStore.ControlPlane.Platform;
using CloudStore.ControlPlane.Users;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace CloudStore.ControlPlane.Decommissioning;

public enum OrganizationDeletionOutcome
{
    /// <summary>Marked deleted now; keys destroyed where the key server answered, the rest by the sweep.</summary>
    Accepted,
    NotFound,
    AlreadyDeleted,

    /// <summary>The typed name is not the organisation's.</summary>
    NameMismatch,

    /// <summary>The caller has no authenticator to prove with (single sign-on).</summary>
    NoSecondFactor,
    SecondFactorRefused,

    /// <summary>Recordings are under legal hold; they must be released first (operations may override).</summary>
    LegalHoldsActive,
}

public sealed record OrganizationDeletionResult(OrganizationDeletionOutcome Outcome, OrganizationTombstone? Tombstone = null, int ActiveHolds = 0);

/// <summary>
/// Deleting an organisation, first steps. One transaction marks it deleted and shuts every door at once: its users are
/// disabled and their sessions revoked, its devices revoked with their keys forgotten, its cameras disabled, and a
/// <see cref="OrganizationTombstone"/> written; from then on the API refuses its access tokens
/// (<see cref="DeletedOrganizationGate"/>). Then the key server destroys its key in every region (crypto-shredding),
/// region by region, each recorded on the tombstone, so a crash or an unreachable key server resumes at the next sweep.
/// The sweep (<see cref="DecommissionSweep"/>) deletes its objects and rows afterwards.
/// </summary>
public sealed class OrganizationDeletion(
    DirectoryDbContext db, UserManager<CloudStoreUser> users, Authenticator authenticator, KeyServerClient keyServer, AuditLog audit, TimeProvider time)
{
    /// <summary>The actor of deletions run by operations' command.</summary>
    public const string Operations = "system:operations";

    /// <summary>
    /// An administrator deletes their own organisation: the name typed and a fresh authenticator code. The cheap checks come
    /// first, so a typo or an active hold does not cost the administrator a code.
    /// </summary>
    public async Task<OrganizationDeletionResult> RequestAsync(Caller caller, string confirmName, string code, CancellationToken cancellationToken)
    {
        var organization = await db.Organizations.SingleOrDefaultAsync(o => o.Id == caller.OrganizationId, cancellationToken);
        if (await PreconditionAsync(organization, confirmName, allowHeld: false, cancellationToken) is { } refused)
        {
            await RefuseAsync(caller.OrganizationId, caller.Actor, refused, cancellationToken);
            return refused;
        }

        var user = caller.UserId is { } id ? await users.FindByIdAsync(id.ToString()) : null;
        if (user is null || !user.TwoFactorEnabled)
        {
            return new OrganizationDeletionResult(OrganizationDeletionOutcome.NoSecondFactor);
        }

        if (await users.IsLockedOutAsync(user) || !await authenticator.VerifyOnceAsync(user, code, cancellationToken))
        {
            // Counted towards the account's lockout, as every refused second factor is.
            await db.WithRetryAsync(user, () => users.AccessFailedAsync(user), cancellationToken);
            var proof = new OrganizationDeletionResult(OrganizationDeletionOutcome.SecondFactorRefused);
            await RefuseAsync(caller.OrganizationId, caller.Actor, proof, cancellationToken);
            return proof;
        }

        return await MarkAndShredAsync(organization!, caller.Actor, heldOverridden: 0, cancellationToken);
    }

    /// <summary>
    /// Operations deletes an organisation (its command). Run again for an organisation already deleted, it retries the keys
    /// not yet destroyed and reports the state. <paramref name="deleteHeld"/>: delete recordings under legal hold too.
    /// </summary>
    public async Task<OrganizationDeletionResult> RequestByOperationsAsync(Guid organizationId, string confirmName, bool deleteHeld, CancellationToken cancellationToken)
    {
        if (await db.OrganizationTombstones.SingleOrDefaultAsync(t => t.OrganizationId == organizationId, cancellationToken) is { } tombstone)
        {
            await ShredKeysAsync(tombstone, cancellationToken);
            return new OrganizationDeletionResult(OrganizationDeletionOutcome.AlreadyDeleted, tombstone);
        }

        var organization = await db.Organizations.SingleOrDefaultAsync(o => o.Id == organizationId, cancellationToken);
        if (await PreconditionAsync(organization, confirmName, allowHeld: deleteHeld, cancellationToken) is { } refused)
        {
            await RefuseAsync(organizationId, Operations, refused, cancellationToken);
            return refused;
        }

        var held = await ActiveHoldsAsync(organizationId, cancellationToken);
        return await MarkAndShredAsync(organization!, Operations, held, cancellationToken);
    }

    /// <summary>
    /// Asks the key server to destroy the organisation's key in each region not yet done, recording each on the tombstone
    /// (and auditing it) as it is confirmed. Safe to run twice at once: the key server's destruction is idempotent.
    /// </summary>
    /// <returns>True when the key is destroyed in every region.</returns>
    public async Task<bool> ShredKeysAsync(OrganizationTombstone tombstone, CancellationToken cancellationToken)
    {
        if (tombstone.KeysDestroyedAt is not null)
        {
            return true;
        }

        var destroyed = tombstone.KeysDestroyedRegions.ToHashSet(StringComparer.Ordinal);
        foreach (var region in Regions.All.Where(r => !destroyed.Contains(r)))
        {
            var done = await keyServer.DestroyKeysAsync(tombstone.OrganizationId, region, cancellationToken);
            if (done)
            {
                destroyed.Add(region);
                tombstone.KeysDestroyedIn = string.Join(' ', Regions.All.Where(destroyed.Contains));
            }

            audit.Add(tombstone.OrganizationId, AuditLog.Scheduler, AuditActions.OrganizationKeysDestroyed, $"organization:{tombstone.OrganizationId}",
                done ? $"success:{region}" : AuditLog.Failure($"key-server-unavailable:{region}"));
            await db.SaveChangesAsync(cancellationToken);
        }

        if (destroyed.Count < Regions.All.Count)
        {
            return false;
        }

        tombstone.KeysDestroyedAt = time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    /// <summary>Whether an organisation can be deleted as asked: it exists, is not deleted, the name matches, no hold stands in the way.</summary>
    async Task<OrganizationDeletionResult?> PreconditionAsync(Organization? organization, string confirmName, bool allowHeld, CancellationToken cancellationToken)
    {
        if (organization is null)
        {
            return new OrganizationDeletionResult(OrganizationDeletionOutcome.NotFound);
        }

        if (organization.DeletedAt is not null)
        {
            return new OrganizationDeletionResult(OrganizationDeletionOutcome.AlreadyDeleted);
        }

        if (!string.Equals(confirmName.Trim(), organization.Name, StringComparison.Ordinal))
        {
            return new OrganizationDeletionResult(OrganizationDeletionOutcome.NameMismatch);
        }

        var holds = await ActiveHoldsAsync(organization.Id, cancellationToken);
        return holds > 0 && !allowHeld ? new OrganizationDeletionResult(OrganizationDeletionOutcome.LegalHoldsActive, ActiveHolds: holds) : null;
    }

    async Task RefuseAsync(Guid organizationId, string actor, OrganizationDeletionResult refused, CancellationToken cancellationToken)
    {
        if (refused.Outcome is OrganizationDeletionOutcome.NotFound)
        {
            return;
        }

        var reason = refused.Outcome switch
        {
            OrganizationDeletionOutcome.AlreadyDeleted => "already-deleted",
            OrganizationDeletionOutcome.NameMismatch => "name-mismatch",
            OrganizationDeletionOutcome.SecondFactorRefused => "second-factor-refused",
            _ => $"legal-holds-active:{refused.ActiveHolds}",
        };
        await audit.WriteAsync(organizationId, actor, AuditActions.OrganizationDeleted, $"organization:{organizationId}", AuditLog.Failure(reason), cancellationToken);
    }

    Task<int> ActiveHoldsAsync(Guid organizationId, CancellationToken cancellationToken) =>
        db.LegalHolds.CountAsync(h => h.OrganizationId == organizationId && h.ReleasedAt == null, cancellationToken);

    async Task<OrganizationDeletionResult> MarkAndShredAsync(Organization organization, string actor, int heldOverridden, CancellationToken cancellationToken)
    {
        var tombstone = await MarkAsync(organization, actor, heldOverridden, cancellationToken);
        if (tombstone is null)
        {
            return new OrganizationDeletionResult(OrganizationDeletionOutcome.AlreadyDeleted);
        }

        await ShredKeysAsync(tombstone, cancellationToken);
        return new OrganizationDeletionResult(OrganizationDeletionOutcome.Accepted, tombstone);
    }

    /// <returns>The tombstone, or null when another request marked the organisation first.</returns>
    async Task<OrganizationTombstone?> MarkAsync(Organization organization, string actor, int heldOverridden, CancellationToken cancellationToken)
    {
        var id = organization.Id;
        DateTimeOffset? now = Stored(time.GetUtcNow());
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // One conditional update decides between parallel deletions; it is the transaction's first statement (SQLite WAL).
        if (await db.Organizations.Where(o => o.Id == id && o.DeletedAt == null).ExecuteUpdateAsync(set => set.SetProperty(o => o.DeletedAt, now), cancellationToken) == 0)
        {
            await transaction.RollbackAsync(cancellationToken);
            return null;
        }

        var people = db.Users.Where(u => u.OrganizationId == id).Select(u => u.Id);
        await db.Users.Where(u => u.OrganizationId == id && u.DisabledAt == null).ExecuteUpdateAsync(set => set.SetProperty(u => u.DisabledAt, now), cancellationToken);
        await db.RefreshTokens.Where(t => people.Contains(t.UserId) && t.RevokedAt == null).ExecuteUpdateAsync(set => set.SetProperty(t => t.RevokedAt, now), cancellationToken);
        await db.SignInChallenges.Where(c => people.Contains(c.UserId)).ExecuteDeleteAsync(cancellationToken);
        await db.Devices.Where(d => d.OrganizationId == id).ExecuteUpdateAsync(set => set
            .SetProperty(d => d.Status, DeviceStatus.Revoked)
            .SetProperty(d => d.RevokedAt, d => d.RevokedAt ?? now)
            .SetProperty(d => d.EnrolmentCodeHash, (byte[]?)null)
            .SetProperty(d => d.EnrolmentExpiresAt, (DateTimeOffset?)null)
            .SetProperty(d => d.PublicKey, (byte[]?)null), cancellationToken);
        await db.Cameras.Where(c => c.OrganizationId == id).ExecuteUpdateAsync(set => set.SetProperty(c => c.Enabled, false), cancellationToken);
        var tombstone = new OrganizationTombstone
        {
            OrganizationId = id,
            NameSha256 = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(organization.Name))),
            HomeRegion = organization.HomeRegion,
            DeletedAt = now.Value,
            DeletedBy = actor,
        };
        db.OrganizationTombstones.Add(tombstone);
        audit.Add(id, actor, AuditActions.OrganizationDeleted, $"organization:{id}", heldOverridden > 0 ? $"success:legal-holds-overridden={heldOverridden}" : AuditLog.Success);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return tombstone;
    }

    /// <summary>What the directory stores (Unix milliseconds), so an answer equals what is read back later.</summary>
    static DateTimeOffset Stored(DateTimeOffset time) => DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds());
}
