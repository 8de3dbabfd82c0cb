namespace CloudStore.ControlPlane.Platform;

/// <summary>
/// When scheduled work runs: six-field NCRONTAB expressions (seconds first), in UTC. The timer functions
/// take these as their schedule and the local host runs the same ones (Cronos), so the two cannot differ.
/// </summary>
public static class Schedules
{
    /// <summary>Daily at 02:00 UTC.</summary>
    public const string SubscriptionWatcher = "0 0 2 * * *";

    /// <summary>Hourly, five minutes past.</summary>
    public const string RetentionSweep = "0 5 * * * *";
}

/// <summary>The scheduled jobs by name (the timer function's name), for the local host's scheduler.</summary>
public static class ScheduledJobs
{
    public static IReadOnlyDictionary<string, string> All { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [nameof(Schedules.SubscriptionWatcher)] = Schedules.SubscriptionWatcher,
        [nameof(Schedules.RetentionSweep)] = Schedules.RetentionSweep,
    };

    /// <summary>Runs one job in its own scope.</summary>
    public static async Task RunAsync(IServiceProvider services, string job, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        switch (job)
        {
            case nameof(Schedules.SubscriptionWatcher):
                await scope.ServiceProvider.GetRequiredService<Organizations.SubscriptionWatcher>().RunAsync(cancellationToken);
                break;
            case nameof(Schedules.RetentionSweep):
                await scope.ServiceProvider.GetRequiredService<Retention.RetentionSweep>().RunAsync(cancellationToken);
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(job), job, "No such scheduled job.");
        }
    }
}
