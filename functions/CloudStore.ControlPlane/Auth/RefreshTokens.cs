using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Platform;
using CloudStore.ControlPlane.Users;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CloudStore.ControlPlane.Auth;

/// <summary>
/// Sessions: a refresh token per sign-in, rotated on every use, revocable. The session has an
/// absolute end (<see cref="AuthOptions.RefreshTokenLifetime"/> from sign-in) that rotation never extends.
/// </summary>
public sealed class RefreshTokens(
    DirectoryDbContext db,
    UserManager<CloudStoreUser> users,
    AccessTokens accessTokens,
    AuditLog audit,
    IOptions<AuthOptions> options,
    TimeProvider time)
{
    /// <summary>Starts a session; the caller saves.</summary>
    public TokenResponse StartSession(CloudStoreUser user, IReadOnlyList<string> authenticationMethods)
    {
        var now = time.GetUtcNow();
        var secret = Secrets.NewToken();
        db.RefreshTokens.Add(new RefreshToken
        {
            Id = Guid.NewGuid(),
            TokenHash = Secrets.Hash(secret),
            FamilyId = Guid.NewGuid(),
            UserId = user.Id,
            CreatedAt = now,
            ExpiresAt = now + options.Value.RefreshTokenLifetime,
            AuthenticationMethods = string.Join(' ', authenticationMethods),
        });
        return accessTokens.ForUser(user.Id, user.OrganizationId, user.Role, Audiences.Api, authenticationMethods, secret);
    }

    /// <returns>New tokens, or null when the refresh token is unknown, expired, revoked or already used.</returns>
    public async Task<TokenResponse?> RotateAsync(string secret, string audience, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var hash = Secrets.Hash(secret);
        var current = await db.RefreshTokens.SingleOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);

        // A session ends as a whole (sign-out, reuse, an administrator's action): one revoked token of the family ends it,
        // also for a token its rotation wrote just after the family was revoked by a concurrent reuse.
        if (current is null || current.RevokedAt is not null || current.ExpiresAt <= now
            || await db.RefreshTokens.AnyAsync(t => t.FamilyId == current.FamilyId && t.RevokedAt != null, cancellationToken))
        {
            return null;
        }

        var user = await users.FindByIdAsync(current.UserId.ToString());
        if (current.ReplacedAt is not null)
        {
            // A used token presented again: it was copied. End the whole session for both holders.
            await RevokeFamilyAsync(current.FamilyId, cancellationToken);
            audit.Add(user?.OrganizationId, $"user:{current.UserId}", AuditActions.TokenRefresh, $"user:{current.UserId}", AuditLog.Failure("refresh-token-reused"));
            await db.SaveChangesAsync(cancellationToken);
            return null;
        }

        if (user is null || user.DisabledAt is not null || await users.IsLockedOutAsync(user))
        {
            return null;
        }

        // Claimed by one conditional update, so of parallel uses of one token exactly one rotates it; the others
        // presented a token already used, which is reuse: the session ends for everyone holding it.
        var claimed = await db.RefreshTokens.Where(t => t.Id == current.Id && t.ReplacedAt == null && t.RevokedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.ReplacedAt, now), cancellationToken);
        if (claimed == 0)
        {
            await RevokeFamilyAsync(current.FamilyId, cancellationToken);
            audit.Add(user.OrganizationId, $"user:{current.UserId}", AuditActions.TokenRefresh, $"user:{current.UserId}", AuditLog.Failure("refresh-token-reused"));
            await db.SaveChangesAsync(cancellationToken);
            return null;
        }

        db.Entry(current).State = EntityState.Unchanged;
        var next = Secrets.NewToken();
        db.RefreshTokens.Add(new RefreshToken
        {
            Id = Guid.NewGuid(),
            TokenHash = Secrets.Hash(next),
            FamilyId = current.FamilyId,
            UserId = current.UserId,
            CreatedAt = now,
            ExpiresAt = current.ExpiresAt,
            AuthenticationMethods = current.AuthenticationMethods,
        });
        await db.SaveChangesAsync(cancellationToken);
        return accessTokens.ForUser(user.Id, user.OrganizationId, user.Role, audience, current.AuthenticationMethods.Split(' '), next);
    }

    /// <summary>Ends the session the token belongs to (sign-out). Unknown tokens are ignored: revocation is idempotent.</summary>
    public async Task<Guid?> RevokeAsync(string secret, CancellationToken cancellationToken)
    {
        var hash = Secrets.Hash(secret);
        var token = await db.RefreshTokens.SingleOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);
        if (token is null)
        {
            return null;
        }

        await RevokeFamilyAsync(token.FamilyId, cancellationToken);
        return token.UserId;
    }

    /// <summary>Ends every session of a user (role change, 2FA reset, password reset); the caller saves.</summary>
    public async Task RevokeAllAsync(Guid userId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var active = await db.RefreshTokens.Where(t => t.UserId == userId && t.RevokedAt == null).ToListAsync(cancellationToken);
        active.ForEach(t => t.RevokedAt = now);
    }

    async Task RevokeFamilyAsync(Guid familyId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var family = await db.RefreshTokens.Where(t => t.FamilyId == familyId && t.RevokedAt == null).ToListAsync(cancellationToken);
        family.ForEach(t => t.RevokedAt = now);
    }
}
