using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Recordings;
using CloudStore.ControlPlane.Regional;
using CloudStore.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudStore.Tests.ControlPlane;

/// <summary>
/// <c>POST /api/cameras/{id}/tamper-reports</c> from the attacker's side: a report is believed only for a segment in
/// the index of a camera of the caller's own organisation, by a role that may play recordings; each file is marked and
/// audited once, whoever reports it and however often (in parallel too), so reports cannot flood the audit log.
/// Index rows are written straight into the region's index, as a camera's indexing would leave them.
/// </summary>
public sealed class TamperReportTests(TamperReportTests.App app) : IClassFixture<TamperReportTests.App>
{
    /// <summary>When the camera of each test recorded: yesterday, on a whole second.</summary>
    static readonly DateTimeOffset Recorded = DateTimeOffset.FromUnixTimeSeconds(TimeProvider.System.GetUtcNow().AddDays(-1).ToUnixTimeSeconds());

    FunctionsFactory Factory => app.Factory;

    [Fact]
    public async Task Report_FirstOfAFile_MarkedAndAuditedOnce_LaterReportsByAnyoneChangeNothing()
    {
        var (tenant, cameraId) = await app.TenantWithRecordingAsync();
        using var admin = tenant.Client(tenant.Administrator);
        var operatorUser = await tenant.AddUserAsync(Roles.Operator);
        using var operatorClient = tenant.Client(operatorUser);
        var segment = Recorded.AddSeconds(4);

        var first = await ReportAsync(admin, cameraId, segment, TamperReportRequest.Segment);
        var again = await ReportAsync(admin, cameraId, segment, TamperReportRequest.Segment);
        var byOperator = await ReportAsync(operatorClient, cameraId, segment, TamperReportRequest.Segment);
        var init = await ReportAsync(operatorClient, cameraId, segment, TamperReportRequest.Init);
        var initAgain = await ReportAsync(admin, cameraId, Recorded, TamperReportRequest.Init);

        Assert.Equal(new TamperReportResponse(cameraId, segment, segment.AddSeconds(4), "segment", first.FirstReportedAt, false), first);
        Assert.True(again.AlreadyReported && byOperator.AlreadyReported && initAgain.AlreadyReported);
        Assert.False(init.AlreadyReported);
        Assert.Equal(first.FirstReportedAt, byOperator.FirstReportedAt);
        var entries = await AuditAsync(tenant.OrganizationId);
        Assert.Equal(2, entries.Count);
        var range = $"{Iso(segment)}/{Iso(segment.AddSeconds(4))}";
        Assert.Equal(($"user:{tenant.Administrator.Id}", $"camera:{cameraId}", $"failure:segment-altered;seq=1;{range}"), (entries[0].Actor, entries[0].Target, entries[0].Outcome));
        Assert.Equal(($"user:{operatorUser.Id}", $"failure:init-altered;seq=1;{range}"), (entries[1].Actor, entries[1].Outcome));
        await using var index = app.Index();
        Assert.Equal([1L], await index.Segments.Where(s => s.CameraId == cameraId && s.TamperReportedAt != null).Select(s => s.Sequence).ToListAsync());
        Assert.NotNull((await index.InitSegments.SingleAsync(i => i.CameraId == cameraId)).TamperReportedAt);
    }

    [Fact]
    public async Task Report_SameFileFifteenTimesInParallel_ExactlyOneFirstReport_OneAuditEntry_No5xx()
    {
        var (tenant, cameraId) = await app.TenantWithRecordingAsync();
        using var admin = tenant.Client(tenant.Administrator);

        var answers = await Task.WhenAll(Enumerable.Range(0, 15).Select(_ =>
            admin.PostAsJsonAsync($"/api/cameras/{cameraId}/tamper-reports", new TamperReportRequest(Recorded.AddSeconds(8), TamperReportRequest.Segment))));
        var reports = await Task.WhenAll(answers.Select(a => a.Content.ReadFromJsonAsync<TamperReportResponse>()));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.Single(reports, r => !r!.AlreadyReported);
        Assert.Single(await AuditAsync(tenant.OrganizationId));
    }

    [Fact]
    public async Task Report_NoSegmentStartingThen_OrNoSuchCamera_404Problem_NothingMarkedOrAudited()
    {
        var (tenant, cameraId) = await app.TenantWithRecordingAsync();
        using var admin = tenant.Client(tenant.Administrator);

        using var offByAMillisecond = await PostAsync(admin, cameraId, Recorded.AddMilliseconds(4001), TamperReportRequest.Segment);
        using var afterTheRecording = await PostAsync(admin, cameraId, Recorded.AddHours(1), TamperReportRequest.Init);
        using var unknownCamera = await PostAsync(admin, Guid.NewGuid(), Recorded, TamperReportRequest.Segment);

        foreach (var response in new[] { offByAMillisecond, afterTheRecording, unknownCamera })
        {
            await AssertProblemAsync(response, HttpStatusCode.NotFound);
        }

        Assert.Empty(await AuditAsync(tenant.OrganizationId));
        await AssertNothingMarkedAsync(cameraId);
    }

    [Fact]
    public async Task Report_ByAnotherOrganisationsAdministrator_404_VictimsFilesUnmarked_NothingAuditedAnywhere()
    {
        var (victim, cameraId) = await app.TenantWithRecordingAsync();
        var attacker = await TestTenant.CreateAsync(Factory, "Attacker");
        using var attackerAdmin = attacker.Client(attacker.Administrator);
        using (var homed = await attackerAdmin.PutAsJsonAsync("/api/organization/region", new OrganizationRegionRequest(Regions.EuFrankfurt)))
        {
            homed.EnsureSuccessStatusCode();
        }

        using var segment = await PostAsync(attackerAdmin, cameraId, Recorded, TamperReportRequest.Segment);
        using var init = await PostAsync(attackerAdmin, cameraId, Recorded, TamperReportRequest.Init);

        await AssertProblemAsync(segment, HttpStatusCode.NotFound);
        await AssertProblemAsync(init, HttpStatusCode.NotFound);
        Assert.DoesNotContain(cameraId.ToString(), await segment.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);
        Assert.Empty(await AuditAsync(victim.OrganizationId));
        Assert.Empty(await AuditAsync(attacker.OrganizationId));
        await AssertNothingMarkedAsync(cameraId);
    }

    [Fact]
    public async Task Report_ByAViewerADeviceOrNobody_Refused_NothingMarkedOrAudited()
    {
        var (tenant, cameraId) = await app.TenantWithRecordingAsync();
        var viewer = await tenant.AddUserAsync(Roles.Viewer);
        using var viewerClient = tenant.Client(viewer);
        using var deviceClient = Factory.ClientWithToken((await tenant.EnrolDeviceAsync("TAMPERDEV001")).AccessToken);
        using var anonymous = Factory.NewClient();

        using var byViewer = await PostAsync(viewerClient, cameraId, Recorded, TamperReportRequest.Segment);
        using var byDevice = await PostAsync(deviceClient, cameraId, Recorded, TamperReportRequest.Segment);
        using var byNobody = await PostAsync(anonymous, cameraId, Recorded, TamperReportRequest.Segment);

        await AssertProblemAsync(byViewer, HttpStatusCode.Forbidden);
        await AssertProblemAsync(byDevice, HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.Unauthorized, byNobody.StatusCode);
        Assert.Empty(await AuditAsync(tenant.OrganizationId));
        await AssertNothingMarkedAsync(cameraId);
    }

    [Fact]
    public async Task Report_WhoseAuditEntryCannotBeWritten_500_MarkTakenBack_SoTheNextReportIsAudited()
    {
        var (tenant, cameraId) = await app.TenantWithRecordingAsync();
        using var admin = tenant.Client(tenant.Administrator);
        app.AuditWrites.FailFor = tenant.OrganizationId;

        using var failed = await PostAsync(admin, cameraId, Recorded.AddSeconds(4), TamperReportRequest.Init);
        await AssertProblemAsync(failed, HttpStatusCode.InternalServerError);
        await AssertNothingMarkedAsync(cameraId);

        app.AuditWrites.FailFor = null;
        var again = await ReportAsync(admin, cameraId, Recorded.AddSeconds(4), TamperReportRequest.Init);

        Assert.False(again.AlreadyReported);
        Assert.Single(await AuditAsync(tenant.OrganizationId));
    }

    static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    static Task<HttpResponseMessage> PostAsync(HttpClient client, Guid cameraId, DateTimeOffset start, string part) =>
        client.PostAsJsonAsync($"/api/cameras/{cameraId}/tamper-reports", new TamperReportRequest(start, part));

    static async Task<TamperReportResponse> ReportAsync(HttpClient client, Guid cameraId, DateTimeOffset start, string part)
    {
        using var response = await PostAsync(client, cameraId, start, part);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<TamperReportResponse>())!;
    }

    static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var problem = JsonDocument.Parse(text);
        Assert.Equal((int)status, problem.RootElement.GetProperty("status").GetInt32());
    }

    Task<List<AuditEntry>> AuditAsync(Guid organizationId) => Factory.WithDirectoryAsync(db =>
        db.AuditEntries.AsNoTracking().Where(e => e.OrganizationId == organizationId && e.Action == AuditActions.TamperDetected).OrderBy(e => e.Id).ToListAsync());

    async Task AssertNothingMarkedAsync(Guid cameraId)
    {
        await using var index = app.Index();
        Assert.False(await index.Segments.AnyAsync(s => s.CameraId == cameraId && s.TamperReportedAt != null));
        Assert.False(await index.InitSegments.AnyAsync(i => i.CameraId == cameraId && i.TamperReportedAt != null));
    }

    /// <summary>The functions app serving Frankfurt, with an index of its own; nothing here reaches storage.</summary>
    public sealed class App : IAsyncLifetime
    {
        public FunctionsFactory Factory { get; } = new();

        /// <summary>Makes the directory refuse tamper audit entries of one organisation, as a database outage would.</summary>
        public FailingAuditWrites AuditWrites { get; } = new();

        public App()
        {
            Factory.With($"Regions:{Regions.EuFrankfurt}:Storage:ConnectionString", "UseDevelopmentStorage=true")
                .With($"Regions:{Regions.EuFrankfurt}:Index:ConnectionString", $"Data Source={Path.Combine(Factory.Folder, "index-frankfurt.db")}")
                .WithServices(services => services.ConfigureDbContext<DirectoryDbContext>(db => db.AddInterceptors(AuditWrites)));
        }

        public IndexDbContext Index() => Factory.Services.GetRequiredService<RegionCatalog>().OpenIndex(Regions.EuFrankfurt);

        /// <summary>
        /// A new organisation homed in Frankfurt with one camera that recorded three 4-second segments from
        /// <see cref="Recorded"/> (sequences 0, 1, 2) with one init segment.
        /// </summary>
        public async Task<(TestTenant Tenant, Guid CameraId)> TenantWithRecordingAsync()
        {
            var tenant = await TestTenant.CreateAsync(Factory, "Tamper");
            using (var admin = tenant.Client(tenant.Administrator))
            using (var homed = await admin.PutAsJsonAsync("/api/organization/region", new OrganizationRegionRequest(Regions.EuFrankfurt)))
            {
                homed.EnsureSuccessStatusCode();
            }

            var cameraId = await tenant.AddCameraAsync("TAMPER" + Guid.NewGuid().ToString("N")[..6].ToUpperInvariant(), "Vault door");
            var keyId = Guid.NewGuid();
            await using var index = Index();
            index.InitSegments.Add(new InitSegmentRow
            {
                CameraId = cameraId, OrganizationId = tenant.OrganizationId, ObjectName = $"init/{keyId:N}-000000000000.mp4", Size = 900,
                Sha256 = new byte[32], KeyId = keyId, Iv = new byte[16], IndexedAt = Recorded,
            });
            index.Segments.AddRange(Enumerable.Range(0, 3).Select(i => new SegmentRow
            {
                OrganizationId = tenant.OrganizationId, CameraId = cameraId, Sequence = i, StartTime = Recorded.AddSeconds(4 * i), DurationMs = 4000,
                ObjectName = $"segments/{i:D12}.m4s", Size = 100_000, Sha256 = new byte[32], KeyId = keyId, Iv = new byte[16],
                InitObjectName = $"init/{keyId:N}-000000000000.mp4", Codec = "avc1.64001f", Width = 1280, Height = 720, IndexedAt = Recorded,
            }));
            await index.SaveChangesAsync();
            return (tenant, cameraId);
        }

        public Task InitializeAsync() => Task.CompletedTask;

        public Task DisposeAsync() => Factory.DisposeAsync().AsTask();
    }

    public sealed class FailingAuditWrites : SaveChangesInterceptor
    {
        public Guid? FailFor { get; set; }

        public override ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            if (FailFor is { } organizationId && eventData.Context!.ChangeTracker.Entries<AuditEntry>()
                .Any(e => e.State == EntityState.Added && e.Entity.Action == AuditActions.TamperDetected && e.Entity.OrganizationId == organizationId))
            {
                throw new DbUpdateException("The directory is unavailable (test).");
            }

            return base.SavingChangesAsync(eventData, result, cancellationToken);
        }
    }
}
