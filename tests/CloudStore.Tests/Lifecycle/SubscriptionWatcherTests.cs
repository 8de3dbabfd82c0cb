using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Organizations;
using CloudStore.ControlPlane.Platform;
using CloudStore.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudStore.Tests.Lifecycle;

/// <summary>The subscription watcher (timer): each notice once, whatever the number of runs and however they overlap.</summary>
public sealed class SubscriptionWatcherTests : IDisposable
{
    static readonly DateTimeOffset End = new(2027, 11, 22, 0, 0, 0, TimeSpan.Zero);

    readonly FunctionsFactory _factory = new();

    public void Dispose() => _factory.Dispose();

    [Theory]
    [InlineData(31.0, null)]
    [InlineData(29.5, "subscription-ending 30d")]
    [InlineData(6.5, "subscription-ending 7d")]
    [InlineData(0.0, "subscription-ended")]
    [InlineData(-40.0, "subscription-ended")]
    public void Due_DaysBeforeTheEnd_OnlyTheNearestNotice(double daysLeft, string? expected)
    {
        var end = End.ToString("O", System.Globalization.CultureInfo.InvariantCulture);

        var due = SubscriptionWatcher.Due(End, End.AddDays(-daysLeft));

        Assert.Equal(expected is null ? [] : [expected], due.Select(n => (n.Kind + " " + n.Key.Replace(end, string.Empty, StringComparison.Ordinal).TrimEnd(':')).Trim()));
        Assert.All(due, n => Assert.EndsWith(end, n.Key, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Watcher_RunRepeatedlyAsTheEndNears_EachNoticeRecordedAndAuditedOnce()
    {
        var tenant = await TestTenant.CreateAsync(_factory, "Ending");
        await SetEndAsync(tenant.OrganizationId, _factory.Clock.GetUtcNow().AddDays(29.5));

        var first = await RunAsync();
        var again = await RunAsync();
        _factory.Clock.Advance(TimeSpan.FromDays(23));
        var week = await RunAsync();
        _factory.Clock.Advance(TimeSpan.FromDays(7));
        var ended = await RunAsync();
        var afterEnd = await RunAsync();

        Assert.Equal([1, 0, 1, 1, 0], new[] { first, again, week, ended, afterEnd });
        var kinds = await _factory.WithDirectoryAsync(db => db.Notifications.Where(n => n.OrganizationId == tenant.OrganizationId)
            .OrderBy(n => n.CreatedAt).Select(n => n.Kind).ToListAsync());
        Assert.Equal([NotificationKinds.SubscriptionEnding, NotificationKinds.SubscriptionEnding, NotificationKinds.SubscriptionEnded], kinds);
        var audited = await _factory.WithDirectoryAsync(db => db.AuditEntries.CountAsync(e => e.OrganizationId == tenant.OrganizationId
            && e.Action == AuditActions.SubscriptionNotice && e.Actor == AuditLog.Scheduler));
        Assert.Equal(3, audited);
    }

    [Fact]
    public async Task Watcher_EightRunsAtOnce_NoticeRecordedExactlyOnceAndNoRunFails()
    {
        var tenant = await TestTenant.CreateAsync(_factory, "Racing");
        await SetEndAsync(tenant.OrganizationId, _factory.Clock.GetUtcNow().AddDays(6));

        var runs = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(RunAsync)));

        Assert.Equal(1, runs.Sum());
        Assert.Equal(1, await _factory.WithDirectoryAsync(db => db.Notifications.CountAsync(n => n.OrganizationId == tenant.OrganizationId)));
        Assert.Equal(1, await _factory.WithDirectoryAsync(db => db.AuditEntries.CountAsync(e => e.OrganizationId == tenant.OrganizationId && e.Action == AuditActions.SubscriptionNotice)));
    }

    [Fact]
    public async Task ScheduledJobs_RetentionSweep_RunsThroughTheSchedulersDispatchAndAuditsTheRun()
    {
        await RunJobAsync(nameof(Schedules.RetentionSweep));

        Assert.Equal(1, await _factory.WithDirectoryAsync(db => db.AuditEntries.CountAsync(e => e.Action == AuditActions.RetentionSweep && e.Actor == AuditLog.Scheduler)));
    }

    async Task<int> RunAsync()
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<SubscriptionWatcher>().RunAsync(CancellationToken.None);
    }

    Task RunJobAsync(string job) => ScheduledJobs.RunAsync(_factory.Services, job, CancellationToken.None);

    async Task SetEndAsync(Guid organizationId, DateTimeOffset endsAt)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        Assert.True(await scope.ServiceProvider.GetRequiredService<OrganizationProvisioning>().SetSubscriptionEndAsync(organizationId, endsAt, CancellationToken.None));
    }
}
