using CloudStore.ControlPlane.Platform;
using Cronos;

namespace CloudStore.Functions.Local;

/// <summary>Routes only the local host serves: development aids, not operations (the function app has no such function).</summary>
public static class LocalOnlyRoutes
{
    public const string OpenApi = "/api/openapi/{documentName}.json";
}

/// <summary>
/// The timer functions' schedules (<see cref="Schedules"/>), run in process with Cronos, since the Functions
/// host that fires timers in Azure cannot run here. The jobs are idempotent and safe to run twice at once,
/// so several local hosts may each run them, as several function instances may.
/// </summary>
public sealed partial class LocalSchedule(IServiceProvider services, TimeProvider time, ILogger<LocalSchedule> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(ScheduledJobs.All.Select(job => RunOnScheduleAsync(job.Key, CronExpression.Parse(job.Value, CronFormat.IncludeSeconds), stoppingToken)));

    async Task RunOnScheduleAsync(string job, CronExpression schedule, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow();
            var next = schedule.GetNextOccurrence(now, TimeZoneInfo.Utc);
            if (next is null)
            {
                return;
            }

            try
            {
                await Task.Delay(next.Value - now, time, stoppingToken);
                await ScheduledJobs.RunAsync(services, job, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A failed run is retried at the next occurrence, as the Functions host does.
                LogJobFailed(logger, job, e);
            }
        }
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Error, Message = "Scheduled job {Job} failed; it runs again at its next occurrence")]
    static partial void LogJobFailed(ILogger logger, string job, Exception exception);
}
