using System.Net;
using System.Net.Http.Json;
using CloudStore.Contracts;
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
        var tenant = await TestTenant.CreateAsync(_factory, "Ending", licences: 0);
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
        var tenant = await TestTenant.CreateAsync(_factory, "Racing", licences: 0);
        await SetEndAsync(tenant.OrganizationId, _factory.Clock.GetUtcNow().AddDays(6));

        var runs = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(RunAsync)));

        Assert.Equal(1, runs.Sum());
        Assert.Equal(1, await _factory.WithDirectoryAsync(db => db.Notifications.CountAsync(n => n.OrganizationId == tenant.OrganizationId)));
        Assert.Equal(1, await _factory.WithDirectoryAsync(db => db.AuditEntries.CountAsync(e => e.OrganizationId == tenant.OrganizationId && e.Action == AuditActions.SubscriptionNotice)));
    }

    [Theory]
    [InlineData(8.0, 3, null)]
    [InlineData(6.5, 0, null)]
    [InlineData(6.5, 1, "1 licence has never been allocated")]
    [InlineData(0.5, 3, "3 licences have never been allocated")]
    [InlineData(0.0, 3, null)]
    public void LicencesDue_WithinAWeekOfTheWindowsEnd_WarnsOnlyWhenLicencesWouldLapse(double daysLeft, int neverAllocated, string? expected)
    {
        var notice = SubscriptionWatcher.LicencesDue(End, neverAllocated, End.AddDays(-daysLeft));

        if (expected is null)
        {
            Assert.Null(notice);
        }
        else
        {
            Assert.StartsWith(expected, notice!.Message, StringComparison.Ordinal);
            Assert.Equal(NotificationKinds.LicencesLapsing, notice.Kind);
        }
    }

    [Fact]
    public async Task Watcher_AWeekBeforeUnallocatedLicencesLapse_WarnsAdministratorsOnce_AndTheyReadItFromTheApi()
    {
        var tenant = await TestTenant.CreateAsync(_factory, "Lapsing", licences: 3);
        var viewer = await tenant.AddUserAsync(Roles.Viewer);
        // One licence was allocated once (a camera enabled, then disabled): it is free but never lapses.
        await _factory.WithDirectoryAsync(db => db.Licences.Where(l => l.OrganizationId == tenant.OrganizationId).Take(1)
            .ExecuteUpdateAsync(set => set.SetProperty(l => l.FirstAllocatedAt, _factory.Clock.GetUtcNow())));

        _factory.Clock.Advance(TimeSpan.FromDays(22));
        var early = await RunAsync();
        _factory.Clock.Advance(TimeSpan.FromDays(2));
        var due = await RunAsync();
        var again = await RunAsync();

        Assert.Equal([0, 1, 0], new[] { early, due, again });
        using var admin = tenant.Client(tenant.Administrator);
        var notifications = await admin.GetFromJsonAsync<List<NotificationResponse>>("/api/organization/notifications");
        var notice = Assert.Single(notifications!);
        Assert.Equal(NotificationKinds.LicencesLapsing, notice.Kind);
        Assert.StartsWith("2 licences have never been allocated", notice.Message, StringComparison.Ordinal);
        Assert.Equal(1, await _factory.WithDirectoryAsync(db => db.AuditEntries.CountAsync(e => e.OrganizationId == tenant.OrganizationId
            && e.Action == AuditActions.LicenceNotice && e.Actor == AuditLog.Scheduler)));
        using var viewerClient = tenant.Client(viewer);
        using var refused = await viewerClient.GetAsync("/api/organization/notifications");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
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
