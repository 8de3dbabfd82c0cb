using CloudStore.ControlPlane.Audit;

namespace CloudStore.ControlPlane.Retention;

/// <summary>
/// Scheduled work (timer <c>RetentionSweep</c>, hourly): the entry point of the retention sweep, which deletes
/// recordings older than each camera's retention in the camera's own region. Retention settings, legal
/// holds and the deletion itself come with the recording lifecycle (issue 9); until then no camera has a
/// retention, so a run deletes nothing. It still runs on its schedule in both front doors and audits each
/// run, so the schedule and wiring are exercised before the deletion logic lands.
/// </summary>
public sealed partial class RetentionSweep(AuditLog audit, ILogger<RetentionSweep> logger)
{
    public sealed record Result(int CamerasSwept, int SegmentsDeleted);

    public async Task<Result> RunAsync(CancellationToken cancellationToken)
    {
        var result = new Result(CamerasSwept: 0, SegmentsDeleted: 0);
        await audit.WriteAsync(null, AuditLog.Scheduler, AuditActions.RetentionSweep, "recordings",
            $"success:cameras={result.CamerasSwept},deleted={result.SegmentsDeleted}", cancellationToken);
        LogSwept(logger, result.CamerasSwept, result.SegmentsDeleted);
        return result;
    }

    [LoggerMessage(EventId = 3201, Level = LogLevel.Information, Message = "Retention sweep: {Cameras} cameras swept, {Segments} segments deleted")]
    static partial void LogSwept(ILogger logger, int cameras, int segments);
}

public static class RetentionServices
{
    public static IServiceCollection AddRetention(this IServiceCollection services) => services.AddScoped<RetentionSweep>();
}
