using System.Globalization;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Data;
using Microsoft.EntityFrameworkCore;

namespace CloudStore.ControlPlane.Organizations;

/// <summary>
/// Scheduled work (timer <c>SubscriptionWatcher</c>, daily): tells each organisation 30 and 7 days before its
/// subscription ends, and when it has ended, with a notification and an audit entry. Devices of an ended
/// subscription already get no upload grants (checked at each grant); recordings stay playable.
/// Idempotent and safe to run twice at once: each notice is a row with a unique key, and a run that loses
/// the race to insert it writes nothing.
/// </summary>
public sealed partial class SubscriptionWatcher(DirectoryDbContext db, AuditLog audit, Licences.LicenceService licences, TimeProvider time, ILogger<SubscriptionWatcher> logger)
{
    /// <summary>Days before the end at which administrators are warned.</summary>
    public static readonly int[] WarningDays = [30, 7];

    public sealed record Notice(string Kind, string Key, string Message);

    /// <summary>The notices due for a subscription ending at <paramref name="endsAt"/>, seen at <paramref name="now"/> (pure).</summary>
    public static IReadOnlyList<Notice> Due(DateTimeOffset endsAt, DateTimeOffset now)
    {
        var end = endsAt.ToString("O", CultureInfo.InvariantCulture);
        if (now >= endsAt)
        {
            return [new Notice(NotificationKinds.SubscriptionEnded, end, $"The subscription ended on {endsAt:yyyy-MM-dd HH:mm} UTC: cameras no longer upload; recordings stay playable until their retention ends.")];
        }

        // Only the nearest warning: an organisation created 5 days before its end is not told "30 days" too.
        var daysLeft = (endsAt - now).TotalDays;
        var due = WarningDays.Where(days => daysLeft <= days).Order().Take(1);
        return [.. due.Select(days => new Notice(NotificationKinds.SubscriptionEnding, $"{days}d:{end}",
            string.Create(CultureInfo.InvariantCulture, $"The subscription ends on {endsAt:yyyy-MM-dd HH:mm} UTC, in {Math.Ceiling(daysLeft):0} days or fewer."))) ];
    }

    /// <returns>The number of notices recorded by this run.</returns>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var horizon = now.AddDays(WarningDays.Max());
        var organizations = await db.Organizations.Where(o => o.SubscriptionEndsAt <= horizon && o.DeletedAt == null)
            .Select(o => new { o.Id, o.SubscriptionEndsAt }).ToListAsync(cancellationToken);
        var recorded = 0;
        foreach (var organization in organizations)
        {
            foreach (var notice in Due(organization.SubscriptionEndsAt, now))
            {
                if (await TryRecordAsync(organization.Id, notice, now, cancellationToken))
                {
                    recorded++;
                    LogNotice(logger, organization.Id, notice.Kind);
                }
            }
        }

        // Licences never allocated within their organisation's window lapse (idempotent: only free ones change).
        await licences.LapseAsync(cancellationToken);
        return recorded;
    }

    async Task<bool> TryRecordAsync(Guid organizationId, Notice notice, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await db.Notifications.AnyAsync(n => n.OrganizationId == organizationId && n.Kind == notice.Kind && n.Key == notice.Key, cancellationToken))
        {
            return false;
        }

        db.Notifications.Add(new Notification { Id = Guid.NewGuid(), OrganizationId = organizationId, Kind = notice.Kind, Key = notice.Key, Message = notice.Message, CreatedAt = now });
        audit.Add(organizationId, AuditLog.Scheduler, AuditActions.SubscriptionNotice, $"organization:{organizationId}", $"success:{notice.Kind}:{notice.Key}");
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            if (await db.Notifications.AnyAsync(n => n.OrganizationId == organizationId && n.Kind == notice.Kind && n.Key == notice.Key, cancellationToken))
            {
                // Another run recorded the same notice first (the unique index refused ours): nothing to do.
                return false;
            }

            throw;
        }
    }

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Subscription notice {Kind} recorded for organisation {OrganizationId}")]
    static partial void LogNotice(ILogger logger, Guid organizationId, string kind);
}
