using System.Net;
using System.Net.Http.Json;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Licences;
using CloudStore.ControlPlane.Organizations;
using CloudStore.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudStore.Tests.Lifecycle;

/// <summary>Licences as an administrator relies on them: each enabled camera holds one, none is handed out twice, unused ones lapse after 30 days.</summary>
public sealed class LicenceTests(FunctionsFactory factory) : IClassFixture<FunctionsFactory>
{
    static string Serial() => "LIC" + Guid.NewGuid().ToString("N")[..9].ToUpperInvariant();

    [Fact]
    public async Task EnableCamera_EightCamerasAtOnceWithFiveLicences_ExactlyFiveEnabledRestConflictNoServerError()
    {
        const int licences = 5, cameras = 8;
        var tenant = await TestTenant.CreateAsync(factory, "Parallel", licences: licences);
        var all = new List<TestCamera>();
        for (var i = 0; i < cameras; i++)
        {
            all.Add(await tenant.AddReportingCameraAsync(Serial(), $"Camera {i}", "11.11.73"));
        }

        var responses = await Task.WhenAll(all.Select(c => Task.Run(async () =>
        {
            using var admin = tenant.Client(tenant.Administrator);
            using var response = await admin.PostAsync($"/api/cameras/{c.CameraId}/enable", null);
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        })));

        Assert.DoesNotContain(responses, r => (int)r.StatusCode >= 500);
        Assert.Equal(licences, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        Assert.All(responses.Where(r => r.StatusCode != HttpStatusCode.OK), r =>
        {
            Assert.Equal(HttpStatusCode.Conflict, r.StatusCode);
            Assert.Contains("No free licence", r.Body, StringComparison.Ordinal);
        });
        using var client = tenant.Client(tenant.Administrator);
        var list = await client.GetFromJsonAsync<LicencesResponse>("/api/organization/licences");
        var enabled = await factory.WithDirectoryAsync(db => db.Cameras.Where(c => c.OrganizationId == tenant.OrganizationId && c.Enabled).Select(c => c.Id).ToListAsync());
        Assert.Equal((0, licences, 0), (list!.Free, list.Allocated, list.Lapsed));
        Assert.Equal(enabled.Order(), list.Licences.Select(l => l.CameraId!.Value).Order());
        var audited = await factory.WithDirectoryAsync(db => db.AuditEntries
            .Where(e => e.OrganizationId == tenant.OrganizationId && e.Action == AuditActions.CameraEnabledChanged).Select(e => e.Outcome).ToListAsync());
        Assert.Equal(cameras, audited.Count);
        Assert.Equal(cameras - licences, audited.Count(o => o == "failure:no-free-licence"));
    }

    [Fact]
    public async Task DisableCamera_FreesItsLicence_AnotherCameraCanThenBeEnabled()
    {
        var tenant = await TestTenant.CreateAsync(factory, "One", licences: 1);
        using var first = await tenant.AddReportingCameraAsync(Serial(), "First", "11.11.73");
        using var second = await tenant.AddReportingCameraAsync(Serial(), "Second", "11.11.73");
        using var admin = tenant.Client(tenant.Administrator);

        (await admin.PostAsync($"/api/cameras/{first.CameraId}/enable", null)).EnsureSuccessStatusCode();
        using var refused = await admin.PostAsync($"/api/cameras/{second.CameraId}/enable", null);
        (await admin.PostAsync($"/api/cameras/{first.CameraId}/disable", null)).EnsureSuccessStatusCode();
        using var enabled = await admin.PostAsync($"/api/cameras/{second.CameraId}/enable", null);

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, enabled.StatusCode);
        var list = await admin.GetFromJsonAsync<LicencesResponse>("/api/organization/licences");
        Assert.Equal(second.CameraId, list!.Licences.Single().CameraId);
        Assert.Equal("Allocated", list.Licences.Single().State);
    }

    [Fact]
    public async Task Licences_NeverAllocatedWithin30DaysOfActivation_LapseWithReason_WatcherMarksThemOnce()
    {
        var tenant = await TestTenant.CreateAsync(factory, "Lapsing", licences: 2);
        using var used = await tenant.AddReportingCameraAsync(Serial(), "Used", "11.11.73");
        using var late = await tenant.AddReportingCameraAsync(Serial(), "Late", "11.11.73");
        using var admin = tenant.Client(tenant.Administrator);
        (await admin.PostAsync($"/api/cameras/{used.CameraId}/enable", null)).EnsureSuccessStatusCode();

        factory.Clock.Advance(TimeSpan.FromDays(31));
        try
        {
            // Before the watcher runs, the list already says which licence lapsed and why; enabling cannot use it.
            var before = await admin.GetFromJsonAsync<LicencesResponse>("/api/organization/licences");
            using var refused = await admin.PostAsync($"/api/cameras/{late.CameraId}/enable", null);
            await RunWatcherAsync();
            await RunWatcherAsync();
            (await admin.PostAsync($"/api/cameras/{used.CameraId}/disable", null)).EnsureSuccessStatusCode();
            using var reused = await admin.PostAsync($"/api/cameras/{late.CameraId}/enable", null);

            Assert.Equal((0, 1, 1), (before!.Free, before.Allocated, before.Lapsed));
            Assert.Contains("Not allocated within 30 days of activation", before.Licences.Single(l => l.State == "Lapsed").LapseReason, StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Equal(HttpStatusCode.OK, reused.StatusCode);
            var stored = await factory.WithDirectoryAsync(db => db.Licences.Where(l => l.OrganizationId == tenant.OrganizationId).OrderBy(l => l.State).ToListAsync());
            Assert.Equal([LicenceState.Allocated, LicenceState.Lapsed], stored.Select(l => l.State));
            Assert.Equal(late.CameraId, stored[0].CameraId);
            Assert.NotNull(stored[1].LapsedAt);
            Assert.Equal(1, await factory.WithDirectoryAsync(db => db.AuditEntries.CountAsync(e => e.OrganizationId == tenant.OrganizationId && e.Action == AuditActions.LicencesLapsed)));
        }
        finally
        {
            factory.Clock.Advance(TimeSpan.FromDays(-31));
        }
    }

    [Fact]
    public async Task LicencesCommand_CountAndPartnerKey_AddedOnce_BadInputRefusedAndNothingStored()
    {
        var tenant = await TestTenant.CreateAsync(factory, "Command", licences: 0);
        var id = tenant.OrganizationId.ToString();
        const string key = "CSL-7K3QF-M9TXA-2B4RD-Y8WNP";

        var exits = new[]
        {
            await CommandAsync("licences", "--organization", id, "--count", "3"),
            await CommandAsync("licences", "--organization", id, "--key", key.ToLowerInvariant()),
            await CommandAsync("licences", "--organization", id, "--key", key),
            await CommandAsync("licences", "--organization", id, "--key", "CSL-7K3QF-M9TXA-2B4RD-Y8WNU"),
            await CommandAsync("licences", "--organization", id, "--count", "0"),
            await CommandAsync("licences", "--organization", id, "--count", "1001"),
            await CommandAsync("licences", "--organization", id, "--count", "x"),
            await CommandAsync("licences", "--organization", Guid.NewGuid().ToString(), "--count", "1"),
            await CommandAsync("licences", "--organization", id, "--count", "1", "--key", key),
        };

        Assert.Equal([0, 0, 1, 1, 1, 1, 1, 1, 2], exits);
        using var admin = tenant.Client(tenant.Administrator);
        var list = await admin.GetFromJsonAsync<LicencesResponse>("/api/organization/licences");
        Assert.Equal(4, list!.Free);
        Assert.Equal("Y8WNP", list.Licences.Single(l => l.Source == LicenceRules.PartnerKeySource).PartnerKeyHint);
        Assert.Equal(2, await factory.WithDirectoryAsync(db => db.AuditEntries.CountAsync(e => e.OrganizationId == tenant.OrganizationId && e.Action == AuditActions.LicencesAdded)));
    }

    Task<int> CommandAsync(params string[] args) => OperationsCommands.RunAsync(factory.Services, args);

    async Task RunWatcherAsync()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<SubscriptionWatcher>().RunAsync(CancellationToken.None);
    }
}
