using System.Net;
using System.Net.Http.Json;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.Tests.Infrastructure;
using Xunit;

namespace CloudStore.Tests.ControlPlane;

/// <summary>An administrator disables, re-enables and deletes people; each ends the person's sessions at once.</summary>
public sealed class UserLifecycleTests(FunctionsFactory factory) : IClassFixture<FunctionsFactory>
{
    [Fact]
    public async Task Disable_EndsSessionsAtOnce_SignInRefused_EnableLetsThemBackIn()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var user = await tenant.AddUserAsync(Roles.Operator);
        using var admin = tenant.Client(tenant.Administrator);
        using var anon = factory.NewClient();

        using var disabled = await admin.PostAsync($"/api/users/{user.Id}/disable", null);
        var shown = await disabled.Content.ReadFromJsonAsync<UserResponse>();
        using var refresh = await anon.PostAsJsonAsync("/api/auth/token", new RefreshRequest(user.Tokens!.RefreshToken!, null));
        using var signIn = await anon.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(user.Email, user.Password));
        using var enabled = await admin.PostAsync($"/api/users/{user.Id}/enable", null);
        await tenant.SignInAsync(user);
        var entries = await admin.GetFromJsonAsync<List<AuditEntryResponse>>($"/api/audit?actor=user:{tenant.Administrator.Id}");

        Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        Assert.True(shown!.Disabled);
        Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, signIn.StatusCode);
        Assert.Equal(HttpStatusCode.OK, enabled.StatusCode);
        Assert.False((await enabled.Content.ReadFromJsonAsync<UserResponse>())!.Disabled);
        Assert.Contains(entries!, e => e.Action == AuditActions.UserDisabled && e.Target == $"user:{user.Id}" && e.Outcome == AuditLog.Success);
        Assert.Contains(entries!, e => e.Action == AuditActions.UserEnabled && e.Target == $"user:{user.Id}" && e.Outcome == AuditLog.Success);
    }

    [Fact]
    public async Task Disable_DuringSecondStep_ChallengeNoLongerSignsIn()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var user = await tenant.AddUserAsync(Roles.Viewer);
        using var admin = tenant.Client(tenant.Administrator);
        using var anon = factory.NewClient();
        var first = await (await anon.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(user.Email, user.Password))).Content.ReadFromJsonAsync<SignInResponse>();

        (await admin.PostAsync($"/api/users/{user.Id}/disable", null)).Dispose();
        using var second = await anon.PostAsJsonAsync("/api/auth/two-factor", new TwoFactorRequest(first!.Challenge!, await user.NextCodeAsync(factory.Clock), null));

        Assert.Equal(HttpStatusCode.Unauthorized, second.StatusCode);
    }

    [Fact]
    public async Task Delete_RemovesUserAndSessions_AuditKeepsTheirId_EmailCanBeReused()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var user = await tenant.AddUserAsync(Roles.Operator);
        using var admin = tenant.Client(tenant.Administrator);
        using var anon = factory.NewClient();

        using var deleted = await admin.DeleteAsync($"/api/users/{user.Id}");
        using var get = await admin.GetAsync($"/api/users/{user.Id}");
        using var refresh = await anon.PostAsJsonAsync("/api/auth/token", new RefreshRequest(user.Tokens!.RefreshToken!, null));
        using var signIn = await anon.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(user.Email, user.Password));
        using var again = await admin.DeleteAsync($"/api/users/{user.Id}");
        var theirs = await admin.GetFromJsonAsync<List<AuditEntryResponse>>($"/api/audit?actor=user:{user.Id}");
        var deletion = await admin.GetFromJsonAsync<List<AuditEntryResponse>>($"/api/audit?action={AuditActions.UserDeleted}");
        using var recreated = await admin.PostAsJsonAsync("/api/users", new CreateUserRequest(user.Email, Roles.Viewer));

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, signIn.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Contains(theirs!, e => e.Action == AuditActions.SignIn && e.Outcome == AuditLog.Success);
        var entry = Assert.Single(deletion!);
        Assert.Equal($"user:{tenant.Administrator.Id}", entry.Actor);
        Assert.Equal($"user:{user.Id}", entry.Target);
        Assert.Equal(HttpStatusCode.Created, recreated.StatusCode);
        Assert.Equal(0, await factory.WithDirectoryAsync(db => Task.FromResult(db.RefreshTokens.Count(t => t.UserId == user.Id))));
    }

    [Theory]
    [InlineData("POST", "disable")]
    [InlineData("DELETE", "")]
    public async Task DisableOrDelete_OwnAccount_RefusedWith409_AccountUnchanged(string method, string action)
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var admin = tenant.Client(tenant.Administrator);
        var path = $"/api/users/{tenant.Administrator.Id}" + (action.Length > 0 ? "/" + action : string.Empty);

        using var response = await admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        var me = await admin.GetFromJsonAsync<UserResponse>("/api/me");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.False(me!.Disabled);
    }

    [Fact]
    public async Task Disable_ByAnOperator_Refused403()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var operatorUser = await tenant.AddUserAsync(Roles.Operator);
        var victim = await tenant.AddUserAsync(Roles.Viewer, signIn: false);
        using var asOperator = tenant.Client(operatorUser);

        using var response = await asOperator.PostAsync($"/api/users/{victim.Id}/disable", null);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
