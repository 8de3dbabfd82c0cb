using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Platform;
using CloudStore.ControlPlane.Users;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CloudStore.ControlPlane.Auth;

public enum SignInFailure
{
    /// <summary>Wrong password or code, unknown account, locked account, bad challenge: one answer for all (401).</summary>
    Rejected,

    /// <summary>The client is blocked by the per-client limiter (403).</summary>
    ClientBlocked,
}

public sealed record SignInResult(SignInResponse? Response, SignInFailure? Failure)
{
    public static SignInResult Ok(SignInResponse response) => new(response, null);

    public static readonly SignInResult Rejected = new(null, SignInFailure.Rejected);
    public static readonly SignInResult Blocked = new(null, SignInFailure.ClientBlocked);
}

/// <summary>
/// Sign-in in two steps: the password, then (where required or enrolled) an authenticator code or a
/// recovery code. Every failure counts against the account (lockout) and the client (limiter), is
/// audited, and answers the same way whether or not the account exists.
/// </summary>
public sealed class SignInService(
    DirectoryDbContext db,
    UserManager<CloudStoreUser> users,
    RefreshTokens sessions,
    Authenticator authenticator,
    SignInThrottle throttle,
    AuditLog audit,
    IOptions<AuthOptions> options,
    TimeProvider time)
{
    static readonly string[] PasswordAndOtp = ["pwd", "otp", "mfa"];

    // Hashing a password for an unknown, locked or disabled account keeps its answer as slow as a known one's.
    static readonly string DecoyHash = new PasswordHasher<CloudStoreUser>().HashPassword(null!, Secrets.NewToken());

    public async Task<SignInResult> PasswordAsync(string email, string password, string client, CancellationToken cancellationToken)
    {
        if (await throttle.IsBlockedAsync(client, cancellationToken))
        {
            await audit.WriteRefusalAsync(null, "anonymous", AuditActions.SignIn, $"email:{email}", AuditLog.Failure("client-blocked"), cancellationToken);
            return SignInResult.Blocked;
        }

        var user = await users.FindByEmailAsync(email);
        if (user is null)
        {
            users.PasswordHasher.VerifyHashedPassword(null!, DecoyHash, password);
            return await FailAsync(null, client, $"email:{email}", "unknown-account", cancellationToken);
        }

        if (await users.IsLockedOutAsync(user))
        {
            // As slow as an unknown account's answer: a quicker one would tell that the account exists.
            users.PasswordHasher.VerifyHashedPassword(null!, DecoyHash, password);
            return await FailAsync(user, client, $"user:{user.Id}", "locked-out", cancellationToken);
        }

        if (user.DisabledAt is not null || user.PasswordHash is null)
        {
            // Answered like a wrong password: the client learns nothing; the audit log says why. An invited person has no
            // password until they accept (nothing to guess, so no lockout count).
            users.PasswordHasher.VerifyHashedPassword(null!, DecoyHash, password);
            return await FailAsync(user, client, $"user:{user.Id}", user.DisabledAt is not null ? "disabled" : "invitation-not-accepted", cancellationToken);
        }

        if (!await users.CheckPasswordAsync(user, password))
        {
            await db.WithRetryAsync(user, () => users.AccessFailedAsync(user), cancellationToken);
            return await FailAsync(user, client, $"user:{user.Id}", "wrong-password", cancellationToken);
        }

        // Two-step verification is required for every role: a password alone never yields a token.
        var secret = Secrets.NewToken();
        db.SignInChallenges.Add(new SignInChallenge
        {
            Id = Guid.NewGuid(),
            TokenHash = Secrets.Hash(secret),
            UserId = user.Id,
            ExpiresAt = time.GetUtcNow() + options.Value.ChallengeLifetime,
            EnrolmentRequired = !user.TwoFactorEnabled,
        });
        await db.SaveChangesAsync(cancellationToken);
        var status = user.TwoFactorEnabled ? SignInResponse.TwoFactorRequired : SignInResponse.AuthenticatorEnrolmentRequired;
        return SignInResult.Ok(new SignInResponse(status, secret, (int)options.Value.ChallengeLifetime.TotalSeconds));
    }

    /// <summary>The second step: an authenticator code, or a single-use recovery code.</summary>
    public async Task<SignInResult> SecondStepAsync(TwoFactorRequest request, string client, CancellationToken cancellationToken)
    {
        var (challenge, user, blocked) = await OpenChallengeAsync(request.Challenge, client, enrolment: false, cancellationToken);
        if (blocked)
        {
            return SignInResult.Blocked;
        }

        if (challenge is null || user is null)
        {
            return SignInResult.Rejected;
        }

        var accepted = request.RecoveryCode is { Length: > 0 } recovery
            ? (await users.RedeemTwoFactorRecoveryCodeAsync(user, recovery)).Succeeded
            : await authenticator.VerifyOnceAsync(user, request.Code ?? string.Empty, cancellationToken);
        if (!accepted)
        {
            return await FailChallengeAsync(challenge, user, client, "wrong-second-factor", cancellationToken);
        }

        challenge.Used = true;
        return await SucceedAsync(user, PasswordAndOtp, recoveryCodes: null, cancellationToken);
    }

    /// <summary>Starts authenticator enrolment for a user whom sign-in asked to enrol.</summary>
    public async Task<AuthenticatorSetupResponse?> BeginEnrolmentAsync(string challengeSecret, string client, CancellationToken cancellationToken)
    {
        var (challenge, user, _) = await OpenChallengeAsync(challengeSecret, client, enrolment: true, cancellationToken);
        return challenge is null || user is null ? null : await authenticator.BeginAsync(user, cancellationToken);
    }

    /// <summary>Confirms enrolment with a first code; signs the user in and returns their recovery codes, shown once.</summary>
    public async Task<SignInResult> ConfirmEnrolmentAsync(string challengeSecret, string code, string client, CancellationToken cancellationToken)
    {
        var (challenge, user, blocked) = await OpenChallengeAsync(challengeSecret, client, enrolment: true, cancellationToken);
        if (blocked)
        {
            return SignInResult.Blocked;
        }

        if (challenge is null || user is null)
        {
            return SignInResult.Rejected;
        }

        var recoveryCodes = await authenticator.ConfirmAsync(user, code, cancellationToken);
        if (recoveryCodes is null)
        {
            return await FailChallengeAsync(challenge, user, client, "wrong-enrolment-code", cancellationToken);
        }

        challenge.Used = true;
        return await SucceedAsync(user, PasswordAndOtp, recoveryCodes, cancellationToken);
    }

    async Task<(SignInChallenge? Challenge, CloudStoreUser? User, bool Blocked)> OpenChallengeAsync(
        string secret, string client, bool enrolment, CancellationToken cancellationToken)
    {
        if (await throttle.IsBlockedAsync(client, cancellationToken))
        {
            // Counted with the client's other blocked attempts, the first step's included (one row a minute).
            await audit.WriteRefusalAsync(null, "anonymous", AuditActions.SignIn, "challenge", AuditLog.Failure("client-blocked"), cancellationToken);
            return (null, null, true);
        }

        var hash = Secrets.Hash(secret);
        var challenge = await db.SignInChallenges.SingleOrDefaultAsync(c => c.TokenHash == hash, cancellationToken);
        var refusal = challenge switch
        {
            null => "unknown-challenge",
            { Used: true } => "challenge-used",
            _ when challenge.EnrolmentRequired != enrolment => "wrong-step",
            _ when challenge.ExpiresAt <= time.GetUtcNow() => "challenge-expired",
            _ when challenge.FailedAttempts >= options.Value.ChallengeMaxAttempts => "challenge-attempts-exhausted",
            _ => null,
        };
        if (refusal is not null)
        {
            // Every attempt is audited, a challenge raced or replayed after its use included (the caller proved nothing
            // yet, so the actor is anonymous; the target is the person the challenge was for).
            var organizationId = challenge is null ? null
                : await db.Users.Where(u => u.Id == challenge.UserId).Select(u => (Guid?)u.OrganizationId).SingleOrDefaultAsync(cancellationToken);
            await throttle.RecordFailureAsync(client, cancellationToken);
            await audit.WriteAsync(organizationId, "anonymous", AuditActions.SignIn, challenge is null ? "challenge:unknown" : $"user:{challenge.UserId}",
                AuditLog.Failure(refusal), cancellationToken);
            return (null, null, false);
        }

        var user = await users.FindByIdAsync(challenge!.UserId.ToString());
        if (user is null || user.DisabledAt is not null || await users.IsLockedOutAsync(user))
        {
            await FailAsync(user, client, $"user:{challenge.UserId}", user?.DisabledAt is null ? "locked-out" : "disabled", cancellationToken);
            return (null, null, false);
        }

        return (challenge, user, false);
    }

    async Task<SignInResult> FailChallengeAsync(SignInChallenge challenge, CloudStoreUser user, string client, string reason, CancellationToken cancellationToken)
    {
        challenge.FailedAttempts++;
        await db.WithRetryAsync(user, () => users.AccessFailedAsync(user), cancellationToken);
        return await FailAsync(user, client, $"user:{user.Id}", reason, cancellationToken);
    }

    async Task<SignInResult> FailAsync(CloudStoreUser? user, string client, string target, string reason, CancellationToken cancellationToken)
    {
        await throttle.RecordFailureAsync(client, cancellationToken);
        await audit.WriteAsync(user?.OrganizationId, user is null ? "anonymous" : $"user:{user.Id}", AuditActions.SignIn, target, AuditLog.Failure(reason), cancellationToken);
        return SignInResult.Rejected;
    }

    async Task<SignInResult> SucceedAsync(CloudStoreUser user, string[] methods, IReadOnlyList<string>? recoveryCodes, CancellationToken cancellationToken)
    {
        await db.WithRetryAsync(user, () => users.ResetAccessFailedCountAsync(user), cancellationToken);
        var tokens = sessions.StartSession(user, methods);
        audit.Add(user.OrganizationId, $"user:{user.Id}", AuditActions.SignIn, $"user:{user.Id}", AuditLog.Success);
        await db.SaveChangesAsync(cancellationToken);
        return SignInResult.Ok(new SignInResponse(SignInResponse.SignedIn, Tokens: tokens, RecoveryCodes: recoveryCodes));
    }
}
