using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Auth;
using CloudStore.ControlPlane.Data;
using Microsoft.AspNetCore.Identity;

namespace CloudStore.ControlPlane.Users;

public enum AccountOutcome
{
    Done,

    /// <summary>The account has no authenticator to prove with (single sign-on, or enrolled before it was required).</summary>
    NoSecondFactor,

    /// <summary>The authenticator code (or the current password) was not accepted.</summary>
    ProofRefused,

    /// <summary>The new password breaks the password policy; see the errors.</summary>
    PasswordRejected,
}

public sealed record AccountResult(AccountOutcome Outcome, IReadOnlyList<string>? RecoveryCodes = null, IdentityResult? PasswordErrors = null);

/// <summary>
/// Sensitive actions on one's own account. Each needs a fresh second factor: the authenticator's current code,
/// consumed once like at sign-in, so a stolen access token alone (10 minutes) cannot replace the recovery codes,
/// the password or the authenticator. Every refusal counts towards the account's lockout and is audited.
/// </summary>
public sealed class MyAccount(
    DirectoryDbContext db,
    UserManager<CloudStoreUser> users,
    Authenticator authenticator,
    RefreshTokens sessions,
    AuditLog audit)
{
    public async Task<AccountResult> NewRecoveryCodesAsync(CloudStoreUser user, string code, CancellationToken cancellationToken)
    {
        if (await ProveAsync(user, code, AuditActions.RecoveryCodesRegenerated, cancellationToken) is { } refused)
        {
            return refused;
        }

        var codes = await users.GenerateNewTwoFactorRecoveryCodesAsync(user, Authenticator.RecoveryCodeCount);
        await audit.WriteAsync(user.OrganizationId, Actor(user), AuditActions.RecoveryCodesRegenerated, Actor(user), AuditLog.Success, cancellationToken);
        return new AccountResult(AccountOutcome.Done, [.. codes ?? []]);
    }

    /// <summary>Changes the password and ends every session of the user, this one included: the holder signs in again.</summary>
    public async Task<AccountResult> ChangePasswordAsync(CloudStoreUser user, string currentPassword, string newPassword, string code, CancellationToken cancellationToken)
    {
        if (!user.TwoFactorEnabled)
        {
            return new AccountResult(AccountOutcome.NoSecondFactor);
        }

        if (await users.IsLockedOutAsync(user) || !await users.CheckPasswordAsync(user, currentPassword))
        {
            return await RefuseAsync(user, AuditActions.PasswordChanged, "wrong-current-password", cancellationToken);
        }

        // The new password is checked before the code is consumed, so a refused password does not cost a code.
        foreach (var validator in users.PasswordValidators)
        {
            var valid = await validator.ValidateAsync(users, user, newPassword);
            if (!valid.Succeeded)
            {
                return new AccountResult(AccountOutcome.PasswordRejected, PasswordErrors: valid);
            }
        }

        if (await ProveAsync(user, code, AuditActions.PasswordChanged, cancellationToken) is { } refused)
        {
            return refused;
        }

        var changed = await users.ChangePasswordAsync(user, currentPassword, newPassword);
        if (!changed.Succeeded)
        {
            return new AccountResult(AccountOutcome.PasswordRejected, PasswordErrors: changed);
        }

        await sessions.RevokeAllAsync(user.Id, cancellationToken);
        audit.Add(user.OrganizationId, Actor(user), AuditActions.PasswordChanged, Actor(user), AuditLog.Success);
        await db.SaveChangesAsync(cancellationToken);
        return new AccountResult(AccountOutcome.Done);
    }

    /// <summary>Removes one's own authenticator and recovery codes (moving to a new phone); ends every session, and the next sign-in enrols again.</summary>
    public async Task<AccountResult> ResetTwoFactorAsync(CloudStoreUser user, string code, CancellationToken cancellationToken)
    {
        if (await ProveAsync(user, code, AuditActions.TwoFactorReset, cancellationToken) is { } refused)
        {
            return refused;
        }

        await users.SetTwoFactorEnabledAsync(user, false);
        await users.ResetAuthenticatorKeyAsync(user);
        await users.GenerateNewTwoFactorRecoveryCodesAsync(user, 0);
        await sessions.RevokeAllAsync(user.Id, cancellationToken);
        audit.Add(user.OrganizationId, Actor(user), AuditActions.TwoFactorReset, Actor(user), AuditLog.Success);
        await db.SaveChangesAsync(cancellationToken);
        return new AccountResult(AccountOutcome.Done);
    }

    async Task<AccountResult?> ProveAsync(CloudStoreUser user, string code, string action, CancellationToken cancellationToken)
    {
        if (!user.TwoFactorEnabled)
        {
            return new AccountResult(AccountOutcome.NoSecondFactor);
        }

        return !await users.IsLockedOutAsync(user) && await authenticator.VerifyOnceAsync(user, code, cancellationToken)
            ? null
            : await RefuseAsync(user, action, "second-factor-refused", cancellationToken);
    }

    async Task<AccountResult> RefuseAsync(CloudStoreUser user, string action, string reason, CancellationToken cancellationToken)
    {
        await db.WithRetryAsync(user, () => users.AccessFailedAsync(user), cancellationToken);
        await audit.WriteAsync(user.OrganizationId, Actor(user), action, Actor(user), AuditLog.Failure(reason), cancellationToken);
        return new AccountResult(AccountOutcome.ProofRefused);
    }

    static string Actor(CloudStoreUser user) => $"user:{user.Id}";
}
