using System.Net;
using System.Net.Http.Json;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Xunit;

namespace CloudStore.Tests.Retention;

/// <summary>Retention settings and legal holds over the API, as an administrator (and an operator) uses them.</summary>
public sealed class RetentionEndpointTests : IAsyncLifetime, IDisposable
{
    static readonly DateTimeOffset Day = new(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);

    readonly FunctionsFactory _factory = new();
    TestTenant _tenant = null!;
    Guid _camera;

    public async Task InitializeAsync()
    {
        _tenant = await TestTenant.CreateAsync(_factory, "Retention");
        _camera = await _tenant.AddCameraAsync("RETENTION001", "Loading bay");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public void Dispose() => _factory.Dispose();

    HttpClient Admin() => _tenant.Client(_tenant.Administrator);

    Task<int> AuditCountAsync(string action) => _factory.WithDirectoryAsync(db => db.AuditEntries.CountAsync(e => e.Action == action && e.OrganizationId == _tenant.OrganizationId));

    [Fact]
    public async Task SetCameraRetention_ValidDays_ShownOnTheCameraAndAudited_NullFollowsTheOrganisation()
    {
        using var admin = Admin();

        using var set = await admin.PutAsJsonAsync($"/api/cameras/{_camera}/retention", new CameraRetentionRequest(7));
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        Assert.Equal(new CameraRetentionResponse(_camera, 7, 7), await set.Content.ReadFromJsonAsync<CameraRetentionResponse>());
        Assert.Equal(7, (await admin.GetFromJsonAsync<CameraResponse>($"/api/cameras/{_camera}"))!.RetentionDays);
        Assert.Equal(1, await AuditCountAsync(AuditActions.RetentionChanged));

        using var organization = await admin.PutAsJsonAsync("/api/organization/retention", new OrganizationRetentionRequest(90));
        Assert.Equal(new OrganizationRetentionResponse(90), await organization.Content.ReadFromJsonAsync<OrganizationRetentionResponse>());
        Assert.Equal(90, (await admin.GetFromJsonAsync<OrganizationResponse>("/api/organization"))!.DefaultRetentionDays);

        using var reset = await admin.PutAsJsonAsync($"/api/cameras/{_camera}/retention", new CameraRetentionRequest(null));
        Assert.Equal(new CameraRetentionResponse(_camera, null, 90), await reset.Content.ReadFromJsonAsync<CameraRetentionResponse>());
        Assert.Null((await admin.GetFromJsonAsync<CameraResponse>($"/api/cameras/{_camera}"))!.RetentionDays);
        Assert.Equal(3, await AuditCountAsync(AuditActions.RetentionChanged));
    }

    [Fact]
    public async Task DirectorySchema_DirectoryFromBeforeRetention_UpgradedInPlace_TwiceHarmless_RetentionAndHoldsWork()
    {
        // A directory as the demo kept it before this change: no LegalHolds table, no retention columns.
        await _factory.WithDirectoryAsync(async db =>
        {
            await db.Database.ExecuteSqlRawAsync("""
                DROP TABLE LegalHolds;
                ALTER TABLE Cameras DROP COLUMN RetentionDays;
                ALTER TABLE Organizations DROP COLUMN DefaultRetentionDays;
                """);
            await global::CloudStore.ControlPlane.Data.DirectorySchema.UpgradeLegacySqliteAsync(db, CancellationToken.None);
            await global::CloudStore.ControlPlane.Data.DirectorySchema.UpgradeLegacySqliteAsync(db, CancellationToken.None);
            return 0;
        });
        using var admin = Admin();

        Assert.Equal(30, (await admin.GetFromJsonAsync<OrganizationResponse>("/api/organization"))!.DefaultRetentionDays);
        using var retention = await admin.PutAsJsonAsync($"/api/cameras/{_camera}/retention", new CameraRetentionRequest(14));
        using var hold = await admin.PostAsJsonAsync($"/api/cameras/{_camera}/holds", new CreateLegalHoldRequest(Day, Day.AddDays(1), "CASE-UPGRADE"));
        Assert.Equal(HttpStatusCode.OK, retention.StatusCode);
        Assert.Equal(HttpStatusCode.Created, hold.StatusCode);
        Assert.Single((await admin.GetFromJsonAsync<List<LegalHoldResponse>>($"/api/cameras/{_camera}/holds"))!);
    }

    [Fact]
    public async Task Organization_New_DefaultRetentionIs30Days()
    {
        using var admin = Admin();

        Assert.Equal(30, (await admin.GetFromJsonAsync<OrganizationResponse>("/api/organization"))!.DefaultRetentionDays);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(3651)]
    [InlineData(int.MaxValue)]
    public async Task SetRetention_OutOfRange_ValidationProblemSayingTheRange_NothingChanged(int days)
    {
        using var admin = Admin();

        using var camera = await admin.PutAsJsonAsync($"/api/cameras/{_camera}/retention", new CameraRetentionRequest(days));
        using var organization = await admin.PutAsJsonAsync("/api/organization/retention", new OrganizationRetentionRequest(days));

        foreach (var response in new[] { camera, organization })
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Contains("From 1 to 3650 days", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.Null((await admin.GetFromJsonAsync<CameraResponse>($"/api/cameras/{_camera}"))!.RetentionDays);
        Assert.Equal(30, (await admin.GetFromJsonAsync<OrganizationResponse>("/api/organization"))!.DefaultRetentionDays);
        Assert.Equal(0, await AuditCountAsync(AuditActions.RetentionChanged));
    }

    [Fact]
    public async Task RetentionAndHolds_AsOperator_ChangesRefused_HoldsReadable()
    {
        using (var admin = Admin())
        {
            (await admin.PostAsJsonAsync($"/api/cameras/{_camera}/holds", new CreateLegalHoldRequest(Day, Day.AddDays(1), "CASE-1"))).EnsureSuccessStatusCode();
        }

        var operatorUser = await _tenant.AddUserAsync(Roles.Operator);
        using var client = _tenant.Client(operatorUser);

        using var retention = await client.PutAsJsonAsync($"/api/cameras/{_camera}/retention", new CameraRetentionRequest(1));
        using var organization = await client.PutAsJsonAsync("/api/organization/retention", new OrganizationRetentionRequest(1));
        using var hold = await client.PostAsJsonAsync($"/api/cameras/{_camera}/holds", new CreateLegalHoldRequest(Day, Day.AddDays(1), "CASE-2"));
        var holds = await client.GetFromJsonAsync<List<LegalHoldResponse>>($"/api/cameras/{_camera}/holds");
        using var release = await client.PostAsync($"/api/cameras/{_camera}/holds/{holds!.Single().Id}/release", null);

        Assert.All([retention, organization, hold, release], r => Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode));
        Assert.Null((await client.GetFromJsonAsync<List<LegalHoldResponse>>($"/api/cameras/{_camera}/holds"))!.Single().ReleasedAt);
    }

    [Fact]
    public async Task PlaceLegalHold_Valid_ListedAuditedThenReleasedOnce()
    {
        using var admin = Admin();

        using var placed = await admin.PostAsJsonAsync($"/api/cameras/{_camera}/holds", new CreateLegalHoldRequest(Day, Day.AddHours(6), "Police ref 2026/118"));
        Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
        var hold = (await placed.Content.ReadFromJsonAsync<LegalHoldResponse>())!;
        Assert.Equal((_camera, Day, Day.AddHours(6), "Police ref 2026/118", $"user:{_tenant.Administrator.Id}"), (hold.CameraId, hold.From, hold.To, hold.CaseReference, hold.CreatedBy));
        Assert.Null(hold.ReleasedAt);
        Assert.Equal([hold], await admin.GetFromJsonAsync<List<LegalHoldResponse>>($"/api/cameras/{_camera}/holds"));
        Assert.Equal(1, await AuditCountAsync(AuditActions.LegalHoldPlaced));

        _factory.Clock.Advance(TimeSpan.FromMinutes(5));
        var releasing = _factory.Clock.GetUtcNow();
        using var released = await admin.PostAsync($"/api/cameras/{_camera}/holds/{hold.Id}/release", null);
        Assert.Equal(HttpStatusCode.OK, released.StatusCode);
        var after = (await released.Content.ReadFromJsonAsync<LegalHoldResponse>())!;
        Assert.InRange(after.ReleasedAt!.Value, releasing.AddMilliseconds(-1), _factory.Clock.GetUtcNow());
        Assert.Equal($"user:{_tenant.Administrator.Id}", after.ReleasedBy);

        _factory.Clock.Advance(TimeSpan.FromMinutes(5));
        using var again = await admin.PostAsync($"/api/cameras/{_camera}/holds/{hold.Id}/release", null);
        Assert.Equal(after, await again.Content.ReadFromJsonAsync<LegalHoldResponse>());
        Assert.Equal(1, await AuditCountAsync(AuditActions.LegalHoldReleased));
    }

    [Fact]
    public async Task ReleaseLegalHold_ManyAtOnce_AllAnsweredNoServerError_ReleasedAndAuditedOnce()
    {
        using var admin = Admin();
        var hold = await (await admin.PostAsJsonAsync($"/api/cameras/{_camera}/holds", new CreateLegalHoldRequest(Day, Day.AddDays(1), "CASE-PARALLEL")))
            .Content.ReadFromJsonAsync<LegalHoldResponse>();

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            using var client = Admin();
            using var response = await client.PostAsync($"/api/cameras/{_camera}/holds/{hold!.Id}/release", null);
            return response.StatusCode;
        }));

        Assert.All(responses, status => Assert.Equal(HttpStatusCode.OK, status));
        Assert.Equal(1, await AuditCountAsync(AuditActions.LegalHoldReleased));
    }

    public static TheoryData<string, string, string, string> BadHolds => new()
    {
        { "to equals from", "2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z", "CASE-1" },
        { "to before from", "2026-03-02T00:00:00Z", "2026-03-01T00:00:00Z", "CASE-1" },
        { "longer than ten years", "2020-01-01T00:00:00Z", "2030-01-01T00:00:00Z", "CASE-1" },
        { "before any recording", "2019-12-31T00:00:00Z", "2020-01-02T00:00:00Z", "CASE-1" },
        { "empty case reference", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", "" },
        { "blank case reference", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", "   " },
        { "case reference of 101 characters", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", new string('C', 101) },
        { "control character", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", "CASE\n1" },
        { "bidirectional override", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z", "CASE\u202E1" },
    };

    [Theory]
    [MemberData(nameof(BadHolds))]
    public async Task PlaceLegalHold_BadInput_ValidationProblem_NothingStored(string flaw, string from, string to, string caseReference)
    {
        using var admin = Admin();

        using var response = await admin.PostAsJsonAsync($"/api/cameras/{_camera}/holds", new CreateLegalHoldRequest(DateTimeOffset.Parse(from, System.Globalization.CultureInfo.InvariantCulture), DateTimeOffset.Parse(to, System.Globalization.CultureInfo.InvariantCulture), caseReference));

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{flaw}: {(int)response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty((await admin.GetFromJsonAsync<List<LegalHoldResponse>>($"/api/cameras/{_camera}/holds"))!);
    }

    [Fact]
    public async Task LegalHold_UnknownCameraOrHold_NotFound()
    {
        using var admin = Admin();
        var other = await _tenant.AddCameraAsync("RETENTION002", "Yard");
        var hold = await (await admin.PostAsJsonAsync($"/api/cameras/{other}/holds", new CreateLegalHoldRequest(Day, Day.AddDays(1), "CASE-Y")))
            .Content.ReadFromJsonAsync<LegalHoldResponse>();

        using var unknownCamera = await admin.PostAsJsonAsync($"/api/cameras/{Guid.NewGuid()}/holds", new CreateLegalHoldRequest(Day, Day.AddDays(1), "CASE-1"));
        using var unknownHold = await admin.PostAsync($"/api/cameras/{_camera}/holds/{Guid.NewGuid()}/release", null);
        using var holdOfAnotherCamera = await admin.PostAsync($"/api/cameras/{_camera}/holds/{hold!.Id}/release", null);

        Assert.All([unknownCamera, unknownHold, holdOfAnotherCamera], r => Assert.Equal(HttpStatusCode.NotFound, r.StatusCode));
        Assert.Null((await admin.GetFromJsonAsync<List<LegalHoldResponse>>($"/api/cameras/{other}/holds"))!.Single().ReleasedAt);
    }
}
