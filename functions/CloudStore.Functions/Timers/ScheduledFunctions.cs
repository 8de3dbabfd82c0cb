using CloudStore.ControlPlane.Platform;
using Microsoft.Azure.Functions.Worker;

namespace CloudStore.Functions.Timers;

/// <summary>
/// Scheduled work. Schedules are NCRONTAB in UTC (<see cref="Schedules"/>); each job is idempotent and safe
/// to run twice at once, since the Functions host may fire a timer on two instances after a scale-out.
/// </summary>
public sealed class ScheduledFunctions(IServiceProvider services)
{
    [Function(nameof(Schedules.SubscriptionWatcher))]
    public Task SubscriptionWatcher([TimerTrigger(Schedules.SubscriptionWatcher)] TimerInfo timer, CancellationToken cancellationToken) =>
        ScheduledJobs.RunAsync(services, nameof(Schedules.SubscriptionWatcher), cancellationToken);

    [Function(nameof(Schedules.RetentionSweep))]
    public Task RetentionSweep([TimerTrigger(Schedules.RetentionSweep)] TimerInfo timer, CancellationToken cancellationToken) =>
        ScheduledJobs.RunAsync(services, nameof(Schedules.RetentionSweep), cancellationToken);
}
