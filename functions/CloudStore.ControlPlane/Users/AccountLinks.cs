using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Auth;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Mail;
using CloudStore.ControlPlane.Platform;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CloudStore.ControlPlane.Users;

public enum LinkOutcome
{
    Done,
    NotFound,

    /// <summary>The email address belongs to an account already (in any organisation).</summary>
    EmailUnavailable,

    /// <summary>Resending an invitation to someone who accepted it already.</summary>
    AlreadyAccepted,

    /// <summary>A password reset for someone who has not accepted their invitation (re-send that instead).</summary>
    NotAccepted,

    /// <summary>The change is stored, but the relay did not take the message: the administrator can send it again.</summary>
    MailNotSent,

    /// <summary>The link is unknown, expired, used, or for another purpose: one answer for all.</summary>
    LinkRefused,

    /// <summary>The new password breaks the password policy (or the email address is malformed); see the errors.</summary>
    Rejected,

    /// <summary>The client is blocked by the per-client limiter, as at sign-in.</summary>
    ClientBlocked,
}

/// <param name="ExpiresAt">When the link just sent expires.</param>
public sealed record LinkResult(LinkOutcome Outcome, CloudStoreUser? User = null, IdentityResult? Errors = null, DateTimeOffset? ExpiresAt = null);

/// <summary>
/// Invitations and administrator-started password resets: one-time links sent by mail, so an administrator never
/// chooses, sees or sends anyone's password. An invited person has no password (and so cannot sign in) until they
/// follow the link and choose one; their first sign-in then enrols the authenticator. A reset ends the person's
/// sessions at once and again when the new password is set. Every action is audited with who, from where and why not.
/// </summary>
public sealed class AccountLinks(
    DirectoryDbContext db,
    UserManager<CloudStoreUser> users,
    RefreshTokens sessions,
    IMailSender mail,
    SignInThrottle throttle,
    AuditLog audit,
    IOptions<AuthOptions> auth,
    IOptions<PlayerOriginOptions> player,
    TimeProvider time)
{
    /// <summary>Creates an invited user (no password) and mails them the invitation.</summary>
    public async Task<LinkResult> InviteAsync(Caller caller, string email, string role, CancellationToken cancellationToken)
    {
        if (await users.FindByEmailAsync(email) is not null)
        {
            return new LinkResult(LinkOutcome.EmailUnavailable);
        }

        var user = new CloudStoreUser
        {
            Id = Guid.NewGuid(),
            OrganizationId = caller.OrganizationId,
            UserName = email,
            Email = email,
            Role = role,
            CreatedAt = time.GetUtcNow(),
        };
        cancellationToken.ThrowIfCancellationRequested();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var created = await users.CreateAsync(user);
        if (!created.Succeeded)
        {
            return created.Errors.Any(e => e.Code is "DuplicateUserName" or "DuplicateEmail")
                ? new LinkResult(LinkOutcome.EmailUnavailable)
                : new LinkResult(LinkOutcome.Rejected, Errors: created);
        }

        var (secret, expiresAt) = Issue(user, AccountTokenPurposes.Invitation, auth.Value.InvitationLifetime);
        audit.Add(caller.OrganizationId, caller.Actor, AuditActions.UserCreated, Target(user), $"success:role={user.Role},invited");
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return await SendAsync(caller, user, AccountTokenPurposes.Invitation, secret, expiresAt, cancellationToken);
    }

    /// <summary>A new invitation link for someone who has not accepted yet; the previous link stops working.</summary>
    public async Task<LinkResult> ResendInvitationAsync(Caller caller, Guid id, CancellationToken cancellationToken)
    {
        var user = await FindAsync(caller, id, cancellationToken);
        if (user is null)
        {
            return new LinkResult(LinkOutcome.NotFound);
        }

        if (user.PasswordHash is not null)
        {
            return new LinkResult(LinkOutcome.AlreadyAccepted, user);
        }

        await db.AccountTokens.Where(t => t.UserId == user.Id && t.Purpose == AccountTokenPurposes.Invitation).ExecuteDeleteAsync(cancellationToken);
        var (secret, expiresAt) = Issue(user, AccountTokenPurposes.Invitation, auth.Value.InvitationLifetime);
        audit.Add(caller.OrganizationId, caller.Actor, AuditActions.InvitationResent, Target(user), AuditLog.Success);
        await db.SaveChangesAsync(cancellationToken);
        return await SendAsync(caller, user, AccountTokenPurposes.Invitation, secret, expiresAt, cancellationToken);
    }

    /// <summary>Ends the user's sessions at once and mails them a link to choose a new password; an earlier reset link stops working.</summary>
    public async Task<LinkResult> StartPasswordResetAsync(Caller caller, Guid id, CancellationToken cancellationToken)
    {
        var user = await FindAsync(caller, id, cancellationToken);
        if (user is null)
        {
            return new LinkResult(LinkOutcome.NotFound);
        }

        if (user.PasswordHash is null)
        {
            return new LinkResult(LinkOutcome.NotAccepted, user);
        }

        await db.AccountTokens.Where(t => t.UserId == user.Id && t.Purpose == AccountTokenPurposes.PasswordReset).ExecuteDeleteAsync(cancellationToken);
        var (secret, expiresAt) = Issue(user, AccountTokenPurposes.PasswordReset, auth.Value.PasswordResetLifetime);
        await sessions.RevokeAllAsync(user.Id, cancellationToken);
        audit.Add(caller.OrganizationId, caller.Actor, AuditActions.PasswordResetStarted, Target(user), "success:sessions-ended");
        await db.SaveChangesAsync(cancellationToken);
        return await SendAsync(caller, user, AccountTokenPurposes.PasswordReset, secret, expiresAt, cancellationToken);
    }

    /// <summary>The invited person sets their first password with the link's token.</summary>
    public Task<LinkResult> AcceptInvitationAsync(string token, string password, string client, CancellationToken cancellationToken) =>
        RedeemAsync(AccountTokenPurposes.Invitation, AuditActions.InvitationAccepted, token, password, client, cancellationToken);

    /// <summary>The person sets a new password with the reset link's token; their sessions end again.</summary>
    public Task<LinkResult> CompletePasswordResetAsync(string token, string password, string client, CancellationToken cancellationToken) =>
        RedeemAsync(AccountTokenPurposes.PasswordReset, AuditActions.PasswordReset, token, password, client, cancellationToken);

    async Task<LinkResult> RedeemAsync(string purpose, string action, string token, string password, string client, CancellationToken cancellationToken)
    {
        if (await throttle.IsBlockedAsync(client, cancellationToken))
        {
            await audit.WriteRefusalAsync(null, "anonymous", action, "link", AuditLog.Failure("client-blocked"), cancellationToken);
            return new LinkResult(LinkOutcome.ClientBlocked);
        }

        var hash = Secrets.Hash(token);
        var link = await db.AccountTokens.AsNoTracking().SingleOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);
        var user = link is null ? null : await db.Users.SingleOrDefaultAsync(u => u.Id == link.UserId, cancellationToken);
        var refusal = link is null || user is null || link.Purpose != purpose ? "unknown-link"
            : link.UsedAt is not null ? "used-link"
            : link.ExpiresAt <= time.GetUtcNow() ? "expired-link"
            : user.DisabledAt is not null ? "disabled"
            : null;
        if (refusal is not null)
        {
            return await RefuseAsync(user, action, refusal, client, cancellationToken);
        }

        // The password is checked before the link is spent, so a refused password leaves the link usable.
        foreach (var validator in users.PasswordValidators)
        {
            if (await validator.ValidateAsync(users, user!, password) is { Succeeded: false } invalid)
            {
                return new LinkResult(LinkOutcome.Rejected, user, invalid);
            }
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var now = time.GetUtcNow();
        var claimed = await db.AccountTokens.Where(t => t.Id == link!.Id && t.UsedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.UsedAt, now), cancellationToken);
        if (claimed == 0)
        {
            // A parallel request with the same link won the claim.
            await transaction.RollbackAsync(cancellationToken);
            return await RefuseAsync(user, action, "used-link", client, cancellationToken);
        }

        user!.PasswordHash = users.PasswordHasher.HashPassword(user, password);
        user.EmailConfirmed = true;
        user.AccessFailedCount = 0;
        user.LockoutEnd = null;
        var updated = await users.UpdateSecurityStampAsync(user);
        if (!updated.Succeeded)
        {
            // The account changed under this request (a sign-in attempt, say): nothing is kept and the link stays usable.
            await transaction.RollbackAsync(cancellationToken);
            return new LinkResult(LinkOutcome.Rejected, user, updated);
        }

        await sessions.RevokeAllAsync(user.Id, cancellationToken);
        audit.Add(user.OrganizationId, Target(user), action, Target(user), AuditLog.Success);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new LinkResult(LinkOutcome.Done, user);
    }

    async Task<LinkResult> RefuseAsync(CloudStoreUser? user, string action, string reason, string client, CancellationToken cancellationToken)
    {
        await throttle.RecordFailureAsync(client, cancellationToken);
        await audit.WriteAsync(user?.OrganizationId, "anonymous", action, user is null ? "link" : Target(user), AuditLog.Failure(reason), cancellationToken);
        return new LinkResult(LinkOutcome.LinkRefused);
    }

    /// <summary>A new link's secret (returned once, for the mail) with only its hash stored; the caller saves.</summary>
    (string Secret, DateTimeOffset ExpiresAt) Issue(CloudStoreUser user, string purpose, TimeSpan lifetime)
    {
        var now = time.GetUtcNow();
        var expiresAt = DateTimeOffset.FromUnixTimeMilliseconds((now + lifetime).ToUnixTimeMilliseconds()); // as stored
        var secret = Secrets.NewToken();
        db.AccountTokens.Add(new AccountToken
        {
            Id = Guid.NewGuid(),
            UserId = user.Id,
            Purpose = purpose,
            TokenHash = Secrets.Hash(secret),
            CreatedAt = now,
            ExpiresAt = expiresAt,
        });
        return (secret, expiresAt);
    }

    async Task<LinkResult> SendAsync(Caller caller, CloudStoreUser user, string purpose, string secret, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        var organization = await db.Organizations.Where(o => o.Id == user.OrganizationId).Select(o => o.Name).SingleAsync(cancellationToken);
        var link = AccountMail.Link(player.Value.Origin, purpose, secret);
        var message = purpose == AccountTokenPurposes.Invitation
            ? AccountMail.Invitation(user.Email!, organization, link, expiresAt)
            : AccountMail.PasswordReset(user.Email!, organization, link, expiresAt);
        if (await mail.SendAsync(message, cancellationToken))
        {
            return new LinkResult(LinkOutcome.Done, user, ExpiresAt: expiresAt);
        }

        await audit.WriteAsync(caller.OrganizationId, caller.Actor, AuditActions.MailNotSent, Target(user), AuditLog.Failure(purpose), cancellationToken);
        return new LinkResult(LinkOutcome.MailNotSent, user);
    }

    Task<CloudStoreUser?> FindAsync(Caller caller, Guid id, CancellationToken cancellationToken) =>
        db.Users.SingleOrDefaultAsync(u => u.Id == id && u.OrganizationId == caller.OrganizationId, cancellationToken);

    static string Target(CloudStoreUser user) => $"user:{user.Id}";
}
