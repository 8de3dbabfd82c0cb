using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Auth;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Platform;
using Microsoft.EntityFrameworkCore;

namespace CloudStore.ControlPlane.Users;

public enum LifecycleOutcome
{
    Done,
    NotFound,

    /// <summary>An administrator acting on their own account: refused, so the organisation always keeps one.</summary>
    Self,
}

/// <summary>
/// An administrator disables, re-enables and deletes the organisation's users. Disabling and deleting end the user's
/// sessions at once (their refresh tokens are revoked; an access token already issued lives at most its 10-15 minutes).
/// Audit entries name people by id (<c>user:{id}</c>) and are append-only, so a deleted user's actions stay attributable.
/// </summary>
public sealed class UserLifecycle(DirectoryDbContext db, RefreshTokens sessions, AuditLog audit, TimeProvider time)
{
    public async Task<(LifecycleOutcome Outcome, CloudStoreUser? User)> SetDisabledAsync(Caller caller, Guid id, bool disabled, CancellationToken cancellationToken)
    {
        var (outcome, user) = await FindAsync(caller, id, cancellationToken);
        if (outcome != LifecycleOutcome.Done || user is null)
        {
            return (outcome, user);
        }

        if ((user.DisabledAt is not null) != disabled)
        {
            user.DisabledAt = disabled ? time.GetUtcNow() : null;
            if (disabled)
            {
                await sessions.RevokeAllAsync(user.Id, cancellationToken);
            }

            audit.Add(caller.OrganizationId, caller.Actor, disabled ? AuditActions.UserDisabled : AuditActions.UserEnabled, $"user:{user.Id}", AuditLog.Success);
            await db.SaveChangesAsync(cancellationToken);
        }

        return (LifecycleOutcome.Done, user);
    }

    /// <summary>Deletes the user (an invited one too) with their sessions, pending challenges, authenticator and links; the audit log keeps their id.</summary>
    public async Task<LifecycleOutcome> DeleteAsync(Caller caller, Guid id, CancellationToken cancellationToken)
    {
        var (outcome, user) = await FindAsync(caller, id, cancellationToken);
        if (outcome != LifecycleOutcome.Done || user is null)
        {
            return outcome;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.RefreshTokens.Where(t => t.UserId == user.Id).ExecuteDeleteAsync(cancellationToken);
        await db.SignInChallenges.Where(c => c.UserId == user.Id).ExecuteDeleteAsync(cancellationToken);
        await db.UsedTotpSteps.Where(u => u.UserId == user.Id).ExecuteDeleteAsync(cancellationToken);
        await db.AccountTokens.Where(t => t.UserId == user.Id).ExecuteDeleteAsync(cancellationToken);
        db.Users.Remove(user);
        audit.Add(caller.OrganizationId, caller.Actor, AuditActions.UserDeleted, $"user:{user.Id}", $"success:role={user.Role}");
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return LifecycleOutcome.Done;
    }

    async Task<(LifecycleOutcome, CloudStoreUser?)> FindAsync(Caller caller, Guid id, CancellationToken cancellationToken)
    {
        var user = await db.Users.SingleOrDefaultAsync(u => u.Id == id && u.OrganizationId == caller.OrganizationId, cancellationToken);
        return user is null ? (LifecycleOutcome.NotFound, null)
            : user.Id == caller.UserId ? (LifecycleOutcome.Self, user)
            : (LifecycleOutcome.Done, user);
    }
}
