using System.Net;
using System.Net.Http.Json;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
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
