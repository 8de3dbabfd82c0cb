using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Users;
using Microsoft.AspNetCore.Identity;

namespace CloudStore.ControlPlane.Auth;

/// <summary>
/// Identity updates a user row under its concurrency stamp. Parallel sign-ins of one account (the same code sent
/// twice) make one of them stale: Identity then answers ConcurrencyFailure and leaves the row marked modified, so the
/// request's next save would throw. Reloading and trying again keeps parallel requests to 2xx/4xx answers.
/// </summary>
public static class UserUpdates
{
    const int Attempts = 10;

    public static async Task<IdentityResult> WithRetryAsync(
        this DirectoryDbContext db, CloudStoreUser user, Func<Task<IdentityResult>> update, CancellationToken cancellationToken)
    {
        var result = IdentityResult.Success;
        for (var attempt = 0; attempt < Attempts; attempt++)
        {
            result = await update();
            if (result.Succeeded || !result.Errors.Any(e => e.Code == nameof(IdentityErrorDescriber.ConcurrencyFailure)))
            {
                return result;
            }

            await db.Entry(user).ReloadAsync(cancellationToken);
        }

        // Still contended: leave the row as stored rather than marked modified, so the request's own save succeeds.
        // Losing a lockout-counter update this way errs on the safe side (a reset is lost, not a failure).
        await db.Entry(user).ReloadAsync(cancellationToken);
        return result;
    }
}
