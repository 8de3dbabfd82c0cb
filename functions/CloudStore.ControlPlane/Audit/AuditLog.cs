using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using CloudStore.ControlPlane.Data;

namespace CloudStore.ControlPlane.Audit;

/// <summary>Writes audit entries. <see cref="Add"/> joins the caller's unit of work, so the change and its entry commit together.</summary>
public sealed class AuditLog(DirectoryDbContext db, TimeProvider time, IHttpContextAccessor http)
{
    public const string Success = "success";

    /// <summary>The actor of scheduled work (timer functions).</summary>
    public const string Scheduler = "system:scheduler";

    public static string Failure(string reason) => "failure:" + reason;

    public void Add(Guid? organizationId, string actor, string action, string target, string outcome) =>
        db.AuditEntries.Add(Entry(time.GetUtcNow(), organizationId, actor, action, target, outcome));

    /// <summary>Adds the entry and saves at once: for failures, which change nothing else.</summary>
    public async Task WriteAsync(Guid? organizationId, string actor, string action, string target, string outcome, CancellationToken cancellationToken)
    {
        Add(organizationId, actor, action, target, outcome);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// A refusal of a caller who proved nothing (a blocked client, a device enrolment or token request that failed):
    /// one row per organisation, actor, source address, action and outcome in each <see cref="RepeatWindow"/>, its
    /// <see cref="AuditEntry.Count"/> the attempts, so a flood adds a count, not rows. What the caller's unit of work
    /// changed is saved first, as <see cref="WriteAsync"/> does. Successes and refusals of signed-in callers stay one row each.
    /// </summary>
    public async Task WriteRefusalAsync(Guid? organizationId, string actor, string action, string target, string outcome, CancellationToken cancellationToken)
    {
        await db.SaveChangesAsync(cancellationToken);
        var now = time.GetUtcNow();
        var windowMs = (long)RepeatWindow.TotalMilliseconds;
        var windowStart = now.ToUnixTimeMilliseconds() / windowMs * windowMs;
        var entry = Entry(now, organizationId, actor, action, target, outcome);
        var repeated = string.Join('\n', windowStart.ToString(CultureInfo.InvariantCulture), organizationId?.ToString() ?? "", entry.Actor, entry.SourceAddress, action, entry.Outcome);
        entry.RepeatKey = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(repeated)));
        await db.CountRepeatedAuditEntryAsync(entry, cancellationToken);
    }

    /// <summary>The window of <see cref="WriteRefusalAsync"/>: a flood from one address writes at most one row per reason a minute.</summary>
    public static readonly TimeSpan RepeatWindow = TimeSpan.FromMinutes(1);

    /// <summary>An entry from this request's address, each text cut to its column's length.</summary>
    AuditEntry Entry(DateTimeOffset now, Guid? organizationId, string actor, string action, string target, string outcome) => new()
    {
        Time = now,
        OrganizationId = organizationId,
        Actor = Truncate(actor, 200),
        SourceAddress = SourceAddress(),
        Action = action,
        Target = Truncate(target, 200),
        Outcome = Truncate(outcome, 100),
    };

    string SourceAddress() => http.HttpContext?.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}
