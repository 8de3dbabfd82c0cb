using System.Net;
using System.Net.Http.Json;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.Device;
using CloudStore.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Xunit;

namespace CloudStore.Tests.ControlPlane;

public sealed class AuditTests(FunctionsFactory factory) : IClassFixture<FunctionsFactory>
{
    [Fact]
    public async Task Query_FiltersByTimeRangeActorAndAction()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var start = factory.Clock.GetUtcNow();
        using var admin = tenant.Client(tenant.Administrator);
        var operatorUser = await tenant.AddUserAsync(Roles.Operator);
        factory.Clock.Advance(TimeSpan.FromHours(2));
        try
        {
            (await admin.PutAsJsonAsync($"/api/users/{operatorUser.Id}/role", new ChangeRoleRequest(Roles.Viewer))).EnsureSuccessStatusCode();
        }
        finally
        {
            factory.Clock.Advance(TimeSpan.FromHours(-2));
        }

        var firstHour = await admin.GetFromJsonAsync<List<AuditEntryResponse>>(
            $"/api/audit?from={Uri.EscapeDataString(start.ToString("O"))}&to={Uri.EscapeDataString(start.AddHours(1).ToString("O"))}");
        var roleChanges = await admin.GetFromJsonAsync<List<AuditEntryResponse>>($"/api/audit?action={AuditActions.RoleChanged}");
        var byOperator = await admin.GetFromJsonAsync<List<AuditEntryResponse>>($"/api/audit?actor=user:{operatorUser.Id}");
        var aboutOperator = await admin.GetFromJsonAsync<List<AuditEntryResponse>>($"/api/audit?target={operatorUser.Id}");

        Assert.Contains(firstHour!, e => e.Action == AuditActions.UserCreated && e.Target == $"user:{operatorUser.Id}");
        Assert.DoesNotContain(firstHour!, e => e.Action == AuditActions.RoleChanged);
        var change = Assert.Single(roleChanges!);
        Assert.Equal($"user:{tenant.Administrator.Id}", change.Actor);
        Assert.Equal($"user:{operatorUser.Id}", change.Target);
        Assert.Equal("success:operator->viewer", change.Outcome);
        Assert.All(byOperator!, e => Assert.Equal($"user:{operatorUser.Id}", e.Actor));
        Assert.Contains(byOperator!, e => e.Action == AuditActions.SignIn);
        Assert.NotEmpty(aboutOperator!);
        Assert.All(aboutOperator!, e => Assert.Contains(operatorUser.Id.ToString(), e.Target, StringComparison.Ordinal));
        Assert.Contains(aboutOperator!, e => e.Action == AuditActions.RoleChanged);
    }

    [Fact]
    public async Task Query_ViewerAndOperator_Forbidden()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var viewer = await tenant.AddUserAsync(Roles.Viewer);
        var operatorUser = await tenant.AddUserAsync(Roles.Operator);

        using var asViewer = await tenant.Client(viewer).GetAsync("/api/audit");
        using var asOperator = await tenant.Client(operatorUser).GetAsync("/api/audit");

        Assert.Equal(HttpStatusCode.Forbidden, asViewer.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, asOperator.StatusCode);
    }

    [Fact]
    public async Task AuditLog_RefusesUpdateAndDelete()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var id = await factory.WithDirectoryAsync(db => db.AuditEntries.Where(e => e.OrganizationId == tenant.OrganizationId).Select(e => e.Id).FirstAsync());

        var update = await Record.ExceptionAsync(() => factory.WithDirectoryAsync(db =>
            db.AuditEntries.Where(e => e.Id == id).ExecuteUpdateAsync(s => s.SetProperty(e => e.Outcome, "success"))));
        var delete = await Record.ExceptionAsync(() => factory.WithDirectoryAsync(db => db.AuditEntries.Where(e => e.Id == id).ExecuteDeleteAsync()));

        Assert.Contains("append-only", update?.Message ?? "", StringComparison.Ordinal);
        Assert.Contains("append-only", delete?.Message ?? "", StringComparison.Ordinal);
        Assert.Equal(1, await factory.WithDirectoryAsync(db => db.AuditEntries.CountAsync(e => e.Id == id)));
    }

    [Fact]
    public async Task Flood_OfUnauthenticatedEnrolmentAndTokenFailuresAndOfABlockedClientAtEitherStep_OneRowPerReasonAndWindow_CountingEveryAttempt()
    {
        // Nothing limits how often a stranger may try an enrolment code or an assertion, or knock while blocked: a row
        // per attempt would let a flood grow the directory without bound.
        const int Attempts = 24;
        await using var own = new FunctionsFactory();
        var tenant = await TestTenant.CreateAsync(own);
        own.Clock.Freeze();
        using var key = DeviceKey.Create();
        using var stranger = own.NewClient("2001:db8:7::1");
        using var blocked = own.NewClient("2001:db8:7::2");
        for (var i = 0; i < 20; i++)
        {
            (await blocked.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest($"guess{i}@example.test", "wrong password " + i))).Dispose();
        }

        var enrolments = await AtOnceAsync(Attempts, () => stranger.PostAsJsonAsync("/api/devices/enrol", new EnrolDeviceRequest("NOTA-CODE-0000", "SERIAL0001", key.PublicKeyBase64)));
        var tokens = await AtOnceAsync(Attempts, () => stranger.PostAsJsonAsync("/api/devices/token", new DeviceTokenRequest(DeviceTokenRequest.JwtBearerAssertionType, "not.an.assertion")));
        var signIns = await AtOnceAsync(Attempts, () => blocked.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(tenant.Administrator.Email, tenant.Administrator.Password)));
        var secondSteps = await AtOnceAsync(Attempts, () => blocked.PostAsJsonAsync("/api/auth/two-factor", new TwoFactorRequest("a-challenge-it-never-had", Code: "123456")));
        own.Clock.Advance(AuditLog.RepeatWindow);
        (await stranger.PostAsJsonAsync("/api/devices/enrol", new EnrolDeviceRequest("NOTA-CODE-0000", "SERIAL0001", key.PublicKeyBase64))).Dispose();
        var rows = await own.WithDirectoryAsync(db => db.AuditEntries
            .Where(e => e.SourceAddress == "2001:db8:7::1" || (e.SourceAddress == "2001:db8:7::2" && e.Outcome == "failure:client-blocked"))
            .OrderBy(e => e.Id).Select(e => new { e.Action, e.Outcome, e.Count }).ToListAsync());

        Assert.All(enrolments, status => Assert.Equal(HttpStatusCode.BadRequest, status));
        Assert.All(tokens, status => Assert.Equal(HttpStatusCode.Unauthorized, status));
        Assert.All(signIns, status => Assert.Equal(HttpStatusCode.Forbidden, status));
        Assert.All(secondSteps, status => Assert.Equal(HttpStatusCode.Forbidden, status));
        Assert.Equal(
            [
                new { Action = AuditActions.DeviceEnrolled, Outcome = "failure:unknown-code", Count = Attempts },
                new { Action = AuditActions.DeviceAuthenticated, Outcome = "failure:malformed", Count = Attempts },
                new { Action = AuditActions.SignIn, Outcome = "failure:client-blocked", Count = 2 * Attempts }, // both steps
                new { Action = AuditActions.DeviceEnrolled, Outcome = "failure:unknown-code", Count = 1 }, // the next window
            ],
            rows);
        using var admin = tenant.Client(tenant.Administrator);
        var shown = await admin.GetFromJsonAsync<List<AuditEntryResponse>>($"/api/audit?action={AuditActions.SignIn}");
        Assert.All(shown!, e => Assert.Equal(1, e.Count)); // the administrator's own sign-ins: one row each
    }

    [Fact]
    public async Task AuditLog_RowOfRepeatedRefusals_OnlyItsCountCanRiseByOne()
    {
        await using var own = new FunctionsFactory();
        await TestTenant.CreateAsync(own); // rows of one event each, beside the repeated one
        using var stranger = own.NewClient("2001:db8:7::3");
        (await stranger.PostAsJsonAsync("/api/devices/token", new DeviceTokenRequest(DeviceTokenRequest.JwtBearerAssertionType, "not.an.assertion"))).Dispose();
        var id = await own.WithDirectoryAsync(db => db.AuditEntries.Where(e => e.SourceAddress == "2001:db8:7::3").Select(e => e.Id).SingleAsync());

        var changed = await Record.ExceptionAsync(() => own.WithDirectoryAsync(db =>
            db.AuditEntries.Where(e => e.Id == id).ExecuteUpdateAsync(s => s.SetProperty(e => e.Count, e => e.Count + 1).SetProperty(e => e.Outcome, "success"))));
        var jumped = await Record.ExceptionAsync(() => own.WithDirectoryAsync(db =>
            db.AuditEntries.Where(e => e.Id == id).ExecuteUpdateAsync(s => s.SetProperty(e => e.Count, e => e.Count + 1000))));
        var lowered = await Record.ExceptionAsync(() => own.WithDirectoryAsync(db =>
            db.AuditEntries.Where(e => e.Id == id).ExecuteUpdateAsync(s => s.SetProperty(e => e.Count, 0))));
        var deleted = await Record.ExceptionAsync(() => own.WithDirectoryAsync(db => db.AuditEntries.Where(e => e.Id == id).ExecuteDeleteAsync()));
        var single = await Record.ExceptionAsync(() => own.WithDirectoryAsync(db =>
            db.AuditEntries.Where(e => e.RepeatKey == null).ExecuteUpdateAsync(s => s.SetProperty(e => e.Count, e => e.Count + 1))));

        Assert.All(new[] { changed, jumped, lowered, deleted, single }, e => Assert.Contains("append-only", e?.Message ?? "", StringComparison.Ordinal));
        Assert.Equal(1, await own.WithDirectoryAsync(db => db.AuditEntries.Where(e => e.Id == id).Select(e => e.Count).SingleAsync()));
    }

    /// <summary>Sends <paramref name="attempts"/> requests released together; their statuses.</summary>
    static async Task<HttpStatusCode[]> AtOnceAsync(int attempts, Func<Task<HttpResponseMessage>> send)
    {
        using var start = new SemaphoreSlim(0);
        var requests = Enumerable.Range(0, attempts).Select(_ => Task.Run(async () =>
        {
            await start.WaitAsync();
            using var response = await send();
            return response.StatusCode;
        })).ToList();
        start.Release(attempts);
        return await Task.WhenAll(requests);
    }

    [Fact]
    public async Task TwoFactorReset_IsAudited_AndTheUserMustEnrolAgain()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var second = await tenant.AddUserAsync(Roles.Administrator);
        var oldKey = second.AuthenticatorKey;
        using var admin = tenant.Client(tenant.Administrator);

        using var reset = await admin.PostAsync($"/api/users/{second.Id}/two-factor/reset", null);
        using var client = factory.NewClient();
        var signIn = await (await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(second.Email, second.Password))).Content.ReadFromJsonAsync<SignInResponse>();
        var entries = await admin.GetFromJsonAsync<List<AuditEntryResponse>>($"/api/audit?action={AuditActions.TwoFactorReset}");
        await tenant.SignInAsync(second);

        Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
        Assert.Equal(SignInResponse.AuthenticatorEnrolmentRequired, signIn!.Status);
        Assert.Equal($"user:{second.Id}", Assert.Single(entries!).Target);
        Assert.NotEqual(oldKey, second.AuthenticatorKey);
    }

    [Fact]
    public async Task Query_BadRange_400Problem()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var admin = tenant.Client(tenant.Administrator);

        using var reversed = await admin.GetAsync("/api/audit?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z");
        using var notADate = await admin.GetAsync("/api/audit?from=yesterday");
        using var hugePage = await admin.GetAsync("/api/audit?limit=100000");
        using var longTarget = await admin.GetAsync("/api/audit?target=" + new string('x', 201));

        Assert.Equal(HttpStatusCode.BadRequest, reversed.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, notADate.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, hugePage.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, longTarget.StatusCode);
        Assert.Equal("application/problem+json", notADate.Content.Headers.ContentType?.MediaType);
    }
}
