using CloudStore.ControlPlane.Data;

namespace CloudStore.ControlPlane.Audit;

/// <summary>Writes audit entries. <see cref="Add"/> joins the caller's unit of work, so the change and its entry commit together.</summary>
public sealed class AuditLog(DirectoryDbContext db, TimeProvider time, IHttpContextAccessor http)
{
    public const string Success = "success";

    /// <summary>The actor of scheduled work (timer functions).</summary>
    public const string Scheduler = "system:scheduler";

    public static string Failure(string reason) => "failure:" + reason;

    public void Add(Guid? organizationId, string actor, string action, string target, string outcome)
    {
        db.AuditEntries.Add(new AuditEntry
        {
            Time = time.GetUtcNow(),
            OrganizationId = organizationId,
            Actor = Truncate(actor, 200),
            SourceAddress = http.HttpContext?.Connection.RemoteIpAddress?.ToString() ?? "unknown",
            Action = action,
            Target = Truncate(target, 200),
            Outcome = Truncate(outcome, 100),
        });
    }

    /// <summary>Adds the entry and saves at once: for failures, which change nothing else.</summary>
    public async Task WriteAsync(Guid? organizationId, string actor, string action, string target, string outcome, CancellationToken cancellationToken)
    {
        Add(organizationId, actor, action, target, outcome);
        await db.SaveChangesAsync(cancellationToken);
    }

    static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}
