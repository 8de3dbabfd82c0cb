using System.Net;
using System.Net.Http.Json;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Xunit;

namespace CloudStore.Tests.ControlPlane;

/// <summary>Two-step verification for everyone: the policy cannot be relaxed, a code works once, sensitive actions need a fresh one.</summary>
public sealed class TwoStepVerificationTests(FunctionsFactory factory) : IClassFixture<FunctionsFactory>
{
    [Fact]
    public async Task SetPolicy_SwitchOff_RefusedWith409_PolicyStaysOnForEveryRole()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var admin = tenant.Client(tenant.Administrator);

        using var refused = await admin.PutAsJsonAsync("/api/organization/policy", new OrganizationPolicyRequest(RequireTwoFactorForAll: false));
        var organization = await admin.GetFromJsonAsync<OrganizationResponse>("/api/organization");
        var viewer = await tenant.AddUserAsync(Roles.Viewer, signIn: false);
        using var client = factory.NewClient();
        var signIn = await (await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(viewer.Email, viewer.Password))).Content.ReadFromJsonAsync<SignInResponse>();

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains("cannot be switched off", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(organization!.RequireTwoFactorForAll);
        Assert.Equal(SignInResponse.AuthenticatorEnrolmentRequired, signIn!.Status);
        Assert.Null(signIn.Tokens);
    }

    [Fact]
    public async Task AuthenticatorSecretAndRecoveryCodes_StoredSealed_TwoStepSignInStillWorks()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var admin = tenant.Administrator;
        var stored = await StoredTokensAsync(admin);

        await tenant.SignInAsync(admin);
        using var withRecoveryCode = await SecondStepWithRecoveryCodeAsync(admin, admin.RecoveryCodes[0]);

        Assert.Equal(["AuthenticatorKey", "RecoveryCodes"], stored.Keys.Order(StringComparer.Ordinal));
        Assert.All(stored.Values, value => Assert.DoesNotContain(admin.AuthenticatorKey!, value, StringComparison.OrdinalIgnoreCase));
        Assert.All(stored.Values, value => Assert.All(admin.RecoveryCodes, code => Assert.DoesNotContain(code, value, StringComparison.OrdinalIgnoreCase)));
        Assert.Equal(HttpStatusCode.OK, withRecoveryCode.StatusCode);
    }

    [Fact]
    public async Task AuthenticatorSecretAndRecoveryCodes_StoredInPlainByAnEarlierVersion_StillSignIn_SealedAtTheirNextChange()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var admin = tenant.Administrator;
        await factory.WithDirectoryAsync(async db =>
        {
            await db.UserTokens.Where(t => t.UserId == admin.Id && t.Name == "AuthenticatorKey").ExecuteUpdateAsync(s => s.SetProperty(t => t.Value, admin.AuthenticatorKey));
            return await db.UserTokens.Where(t => t.UserId == admin.Id && t.Name == "RecoveryCodes").ExecuteUpdateAsync(s => s.SetProperty(t => t.Value, string.Join(';', admin.RecoveryCodes)));
        });

        await tenant.SignInAsync(admin);
        using var withRecoveryCode = await SecondStepWithRecoveryCodeAsync(admin, admin.RecoveryCodes[0]);
        var stored = await StoredTokensAsync(admin);

        Assert.Equal(HttpStatusCode.OK, withRecoveryCode.StatusCode);
        Assert.Equal(admin.AuthenticatorKey, stored["AuthenticatorKey"]); // unchanged until the next enrolment
        Assert.All(admin.RecoveryCodes, code => Assert.DoesNotContain(code, stored["RecoveryCodes"], StringComparison.OrdinalIgnoreCase));
    }

    Task<Dictionary<string, string>> StoredTokensAsync(TestUser user) =>
        factory.WithDirectoryAsync(db => db.UserTokens.Where(t => t.UserId == user.Id).ToDictionaryAsync(t => t.Name, t => t.Value ?? ""));

    async Task<HttpResponseMessage> SecondStepWithRecoveryCodeAsync(TestUser user, string recoveryCode)
    {
        using var client = factory.NewClient();
        using var password = await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(user.Email, user.Password));
        var challenge = (await password.Content.ReadFromJsonAsync<SignInResponse>())!.Challenge!;
        return await client.PostAsJsonAsync("/api/auth/two-factor", new TwoFactorRequest(challenge, null, recoveryCode));
    }

    [Fact]
    public async Task SecondStep_CodeAlreadyUsedInItsStep_Refused_NextStepAccepted()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var admin = tenant.Administrator;
        using var client = factory.NewClient();
        var code = await admin.NextCodeAsync(factory.Clock);

        using var first = await client.PostAsJsonAsync("/api/auth/two-factor", new TwoFactorRequest(await PasswordStepAsync(client, admin), code, null));
        using var replay = await client.PostAsJsonAsync("/api/auth/two-factor", new TwoFactorRequest(await PasswordStepAsync(client, admin), code, null));
        using var next = await client.PostAsJsonAsync("/api/auth/two-factor", new TwoFactorRequest(await PasswordStepAsync(client, admin), await admin.NextCodeAsync(factory.Clock), null));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task SecondStep_SameCodeInParallel_ExactlyOneSignsIn_No5xx()
    {
        const int n = 8;
        var tenant = await TestTenant.CreateAsync(factory);
        var admin = tenant.Administrator;
        var clients = Enumerable.Range(0, n).Select(_ => factory.NewClient()).ToList();
        var challenges = new List<string>();
        foreach (var client in clients)
        {
            challenges.Add(await PasswordStepAsync(client, admin));
        }

        var code = await admin.NextCodeAsync(factory.Clock);

        var responses = await Task.WhenAll(clients.Select((client, i) => client.PostAsJsonAsync("/api/auth/two-factor", new TwoFactorRequest(challenges[i], code, null))));

        var statuses = responses.Select(r => (int)r.StatusCode).ToList();
        Assert.True(statuses.All(s => s < 500), string.Join(", ", statuses) + " " + string.Join(" | ", await Task.WhenAll(responses.Where(r => (int)r.StatusCode >= 500).Select(r => r.Content.ReadAsStringAsync()))));
        Assert.Equal(1, statuses.Count(s => s == 200));
        Assert.Equal(n - 1, statuses.Count(s => s == 401));
        foreach (var disposable in responses.Cast<IDisposable>().Concat(clients))
        {
            disposable.Dispose();
        }
    }

    [Fact]
    public async Task NewRecoveryCodes_WithoutAFreshCode_Refused_WithOne_OldCodesStopWorking()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var admin = tenant.Administrator;
        using var api = tenant.Client(admin);
        var oldCode = admin.RecoveryCodes[0];

        using var withoutCode = await api.PostAsJsonAsync("/api/me/recovery-codes", new SecondFactorRequest("000000"));
        using var withCode = await api.PostAsJsonAsync("/api/me/recovery-codes", new SecondFactorRequest(await admin.NextCodeAsync(factory.Clock)));
        var fresh = await withCode.Content.ReadFromJsonAsync<RecoveryCodesResponse>();
        using var client = factory.NewClient();
        using var old = await client.PostAsJsonAsync("/api/auth/two-factor", new TwoFactorRequest(await PasswordStepAsync(client, admin), null, oldCode));

        Assert.Equal(HttpStatusCode.Forbidden, withoutCode.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withCode.StatusCode);
        Assert.Equal(10, fresh!.RecoveryCodes.Count);
        Assert.Equal(HttpStatusCode.Unauthorized, old.StatusCode);
    }

    [Fact]
    public async Task ChangePassword_NeedsCurrentPasswordAndFreshCode_EndsSessions_NewPasswordSignsIn()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var user = await tenant.AddUserAsync(Roles.Operator);
        using var api = tenant.Client(user);
        var newPassword = TestTenant.NewPassword();

        using var wrongCurrent = await api.PostAsJsonAsync("/api/me/password", new ChangePasswordRequest("not the current password", newPassword, "123456"));
        using var wrongCode = await api.PostAsJsonAsync("/api/me/password", new ChangePasswordRequest(user.Password, newPassword, "000000"));
        using var weak = await api.PostAsJsonAsync("/api/me/password", new ChangePasswordRequest(user.Password, "password123", "123456"));
        using var changed = await api.PostAsJsonAsync("/api/me/password", new ChangePasswordRequest(user.Password, newPassword, await user.NextCodeAsync(factory.Clock)));
        using var anon = factory.NewClient();
        using var refresh = await anon.PostAsJsonAsync("/api/auth/token", new RefreshRequest(user.Tokens!.RefreshToken!, null));
        using var oldPassword = await anon.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(user.Email, user.Password));
        var renamed = new TestUser(user.Id, user.Email, newPassword, user.Role) { AuthenticatorKey = user.AuthenticatorKey, LastTotpStep = user.LastTotpStep };
        await tenant.SignInAsync(renamed);
        using var audit = tenant.Client(tenant.Administrator);
        var entries = await audit.GetFromJsonAsync<List<AuditEntryResponse>>($"/api/audit?action={AuditActions.PasswordChanged}");

        Assert.Equal(HttpStatusCode.Forbidden, wrongCurrent.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, wrongCode.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, weak.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, changed.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, oldPassword.StatusCode);
        Assert.Contains(entries!, e => e.Actor == $"user:{user.Id}" && e.Outcome == AuditLog.Success);
        Assert.Equal(2, entries!.Count(e => e.Outcome.StartsWith("failure:", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ResetOwnTwoFactor_NeedsFreshCode_EndsSessions_NextSignInEnrolsAgain()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var user = await tenant.AddUserAsync(Roles.Viewer);
        using var api = tenant.Client(user);

        using var wrongCode = await api.PostAsJsonAsync("/api/me/two-factor/reset", new SecondFactorRequest("000000"));
        using var reset = await api.PostAsJsonAsync("/api/me/two-factor/reset", new SecondFactorRequest(await user.NextCodeAsync(factory.Clock)));
        using var anon = factory.NewClient();
        using var refresh = await anon.PostAsJsonAsync("/api/auth/token", new RefreshRequest(user.Tokens!.RefreshToken!, null));
        var signIn = await (await anon.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(user.Email, user.Password))).Content.ReadFromJsonAsync<SignInResponse>();

        Assert.Equal(HttpStatusCode.Forbidden, wrongCode.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, refresh.StatusCode);
        Assert.Equal(SignInResponse.AuthenticatorEnrolmentRequired, signIn!.Status);
    }

    static async Task<string> PasswordStepAsync(HttpClient client, TestUser user)
    {
        using var response = await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(user.Email, user.Password));
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<SignInResponse>();
        Assert.Equal(SignInResponse.TwoFactorRequired, body!.Status);
        return body.Challenge!;
    }
}
