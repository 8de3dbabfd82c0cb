using CloudStore.ControlPlane.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CloudStore.ControlPlane.Auth;

/// <summary>
/// Per-client brute-force limiter, as on the cameras: <see cref="AuthOptions.ClientFailureLimit"/>
/// failed sign-in attempts within <see cref="AuthOptions.ClientFailureWindow"/> block the client for
/// <see cref="AuthOptions.ClientBlockDuration"/>. Works with the per-account lockout, which stops a
/// slow attack on one account; this stops a fast attack on many.
/// </summary>
/// <remarks>
/// The count lives in the directory database (<see cref="ClientThrottle"/>), updated by one atomic upsert per failure,
/// so every instance of the functions sees the same count and parallel failures are each counted once. The window is
/// fixed (it starts at the first failure after the last one ended), which is what the one-statement update can keep.
/// </remarks>
public sealed class SignInThrottle(DirectoryDbContext db, IOptions<AuthOptions> options, TimeProvider time)
{
    /// <summary>One failure in this many also removes rows whose window and block have both ended.</summary>
    const int PruneEvery = 64;

    public async Task<bool> IsBlockedAsync(string client, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        return await db.ClientThrottles.AsNoTracking().AnyAsync(c => c.Client == client && c.BlockedUntil > now, cancellationToken);
    }

    public async Task RecordFailureAsync(string client, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        await db.CountClientFailureAsync(client, now, settings.ClientFailureWindow, settings.ClientFailureLimit, now + settings.ClientBlockDuration, cancellationToken);
        if (Random.Shared.Next(PruneEvery) == 0)
        {
            var windowEnded = now - settings.ClientFailureWindow;
            await db.ClientThrottles.Where(c => c.BlockedUntil <= now && c.WindowStart <= windowEnded).ExecuteDeleteAsync(cancellationToken);
        }
    }
}

/// <summary>One client's failed sign-in attempts in the current window, and the end of its block if it is blocked.</summary>
public sealed class ClientThrottle
{
    /// <summary>The client's address, as the audit log records it.</summary>
    public required string Client { get; set; }

    public DateTimeOffset WindowStart { get; set; }

    public int Failures { get; set; }

    public DateTimeOffset BlockedUntil { get; set; }
}
