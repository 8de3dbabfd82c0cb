using System.Globalization;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Licences;
using Microsoft.EntityFrameworkCore;

namespace CloudStore.ControlPlane.Organizations;

/// <summary>
/// Scheduled work (timer <c>SubscriptionWatcher</c>, daily): tells each organisation 30 and 7 days before its
/// subscription ends, and when it has ended, with a notification and an audit entry. Devices of an ended
/// subscription already get no upload grants (checked at each grant); recordings stay playable. It also warns
/// 7 days before licences that were never allocated lapse at the end of the allocation window, and then lapses them.
/// Idempotent and safe to run twice at once: each notice is a row with a unique key, and a run that loses
/// the race to insert it writes nothing.
/// </summary>
public sealed partial class SubscriptionWatcher(DirectoryDbContext db, AuditLog audit, LicenceService licences, TimeProvider time, ILogger<SubscriptionWatcher> logger)
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

    /// <summary>Days before the allocation window ends at which administrators with unallocated licences are warned.</summary>
    public const int LicenceWarningDays = 7;

    /// <summary>
    /// The licence notice due for an organisation whose allocation window ends at <paramref name="windowEndsAt"/> and
    /// which has <paramref name="neverAllocated"/> free licences that were never allocated, seen at <paramref name="now"/> (pure).
    /// </summary>
    public static Notice? LicencesDue(DateTimeOffset windowEndsAt, int neverAllocated, DateTimeOffset now)
    {
        if (neverAllocated == 0 || now >= windowEndsAt || windowEndsAt - now > TimeSpan.FromDays(LicenceWarningDays))
        {
            return null;
        }

        var licencesText = neverAllocated == 1 ? "1 licence has" : $"{neverAllocated} licences have";
        return new Notice(NotificationKinds.LicencesLapsing, windowEndsAt.ToString("O", CultureInfo.InvariantCulture),
            $"{licencesText} never been allocated and will lapse on {windowEndsAt:yyyy-MM-dd HH:mm} UTC: enable cameras before then to keep them.");
    }

    /// <returns>The number of notices recorded by this run.</returns>
    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var recorded = 0;
        foreach (var (organizationId, notice) in await SubscriptionNoticesAsync(now, cancellationToken))
        {
            recorded += await RecordAsync(organizationId, notice, now, cancellationToken);
        }

        foreach (var (organizationId, notice) in await LicenceNoticesAsync(now, cancellationToken))
        {
            recorded += await RecordAsync(organizationId, notice, now, cancellationToken);
        }

        // Licences never allocated within their organisation's window lapse (idempotent: only free ones change).
        await licences.LapseAsync(cancellationToken);
        return recorded;
    }

    async Task<List<(Guid, Notice)>> SubscriptionNoticesAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var horizon = now.AddDays(WarningDays.Max());
        var organizations = await db.Organizations.Where(o => o.SubscriptionEndsAt <= horizon && o.DeletedAt == null)
            .Select(o => new { o.Id, o.SubscriptionEndsAt }).ToListAsync(cancellationToken);
        return [.. organizations.SelectMany(o => Due(o.SubscriptionEndsAt, now).Select(notice => (o.Id, notice)))];
    }

    async Task<List<(Guid, Notice)>> LicenceNoticesAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        // Organisations activated between 30 and 23 days ago: their allocation window ends within the warning period.
        var activatedAfter = now - LicenceRules.AllocationWindow;
        var activatedBefore = activatedAfter.AddDays(LicenceWarningDays);
        var organizations = await db.Organizations.Where(o => o.CreatedAt > activatedAfter && o.CreatedAt <= activatedBefore && o.DeletedAt == null)
            .Select(o => new
            {
                o.Id,
                o.CreatedAt,
                NeverAllocated = db.Licences.Count(l => l.OrganizationId == o.Id && l.State == LicenceState.Free && l.FirstAllocatedAt == null),
            })
            .ToListAsync(cancellationToken);
        return [.. organizations
            .Select(o => (o.Id, Notice: LicencesDue(LicenceRules.WindowEnd(o.CreatedAt), o.NeverAllocated, now)))
            .Where(o => o.Notice is not null)
            .Select(o => (o.Id, o.Notice!))];
    }

    async Task<int> RecordAsync(Guid organizationId, Notice notice, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!await TryRecordAsync(organizationId, notice, now, cancellationToken))
        {
            return 0;
        }

        LogNotice(logger, organizationId, notice.Kind);
        return 1;
    }

    async Task<bool> TryRecordAsync(Guid organizationId, Notice notice, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await db.Notifications.AnyAsync(n => n.OrganizationId == organizationId && n.Kind == notice.Kind && n.Key == notice.Key, cancellationToken))
        {
            return false;
        }

        db.Notifications.Add(new Notification { Id = Guid.NewGuid(), OrganizationId = organizationId, Kind = notice.Kind, Key = notice.Key, Message = notice.Message, CreatedAt = now });
        var action = notice.Kind == NotificationKinds.LicencesLapsing ? AuditActions.LicenceNotice : AuditActions.SubscriptionNotice;
        audit.Add(organizationId, AuditLog.Scheduler, action, $"organization:{organizationId}", $"success:{notice.Kind}:{notice.Key}");
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

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Notice {Kind} recorded for organisation {OrganizationId}")]
    static partial void LogNotice(ILogger logger, Guid organizationId, string kind);
}
