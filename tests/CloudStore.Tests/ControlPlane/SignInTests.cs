using System.Net;
using System.Net.Http.Json;
using CloudStore.LocalStack;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.ControlPlane.Users;
using CloudStore.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudStore.Tests.ControlPlane;

public sealed class SignInTests(FunctionsFactory factory) : IClassFixture<FunctionsFactory>
{
    [Fact]
    public async Task SignIn_WrongPassword_RefusedWith401AndNoToken()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var client = factory.NewClient();

        using var response = await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(tenant.Administrator.Email, "not the password at all"));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("token", body, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task SignIn_UnknownAccount_AnsweredExactlyLikeWrongPassword()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var client = factory.NewClient();

        using var wrongPassword = await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(tenant.Administrator.Email, "not the password at all"));
        using var unknown = await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest("nobody-" + Guid.NewGuid() + "@example.test", "not the password at all"));

        Assert.Equal(wrongPassword.StatusCode, unknown.StatusCode);
        var a = await wrongPassword.Content.ReadFromJsonAsync<ProblemDetails>();
        var b = await unknown.Content.ReadFromJsonAsync<ProblemDetails>();
        Assert.Equal((a!.Title, a.Detail, a.Status), (b!.Title, b.Detail, b.Status));
    }

    [Fact]
    public async Task SecondStep_WrongCode_Refused()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var client = factory.NewClient();
        var challenge = await PasswordStepAsync(client, tenant.Administrator);

        using var response = await client.PostAsJsonAsync("/api/auth/two-factor", new TwoFactorRequest(challenge, WrongCode(tenant.Administrator), null));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task SignIn_AccountLockedAfterFiveFailures_RightPasswordAndCodeRefused()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var client = factory.NewClient();
        for (var i = 0; i < 5; i++)
        {
            using var failed = await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(tenant.Administrator.Email, "wrong password " + i));
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }

        using var response = await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(tenant.Administrator.Email, tenant.Administrator.Password));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var audit = await factory.WithDirectoryAsync(db => db.AuditEntries
            .Where(e => e.OrganizationId == tenant.OrganizationId && e.Action == AuditActions.SignIn).Select(e => e.Outcome).ToListAsync());
        Assert.Contains("failure:locked-out", audit);
    }

    [Fact]
    public async Task SignIn_LockedAccount_HashesThePasswordLikeAnUnknownAccount_SoTimingTellsNothing()
    {
        // The work that makes an answer slow is the password hash: a locked account skipping it would answer sooner
        // than an unknown one, telling an attacker which addresses have accounts.
        var hasher = new CountingPasswordHasher();
        await using var own = new FunctionsFactory();
        own.WithServices(services => services.AddSingleton<IPasswordHasher<CloudStoreUser>>(hasher));
        var tenant = await TestTenant.CreateAsync(own);
        using var client = own.NewClient();
        for (var i = 0; i < 5; i++)
        {
            (await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(tenant.Administrator.Email, "wrong password " + i))).Dispose();
        }

        hasher.Verifications = 0;
        using var locked = await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(tenant.Administrator.Email, "wrong password 5"));
        var lockedWork = hasher.Verifications;
        hasher.Verifications = 0;
        using var unknown = await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest("nobody-" + Guid.NewGuid() + "@example.test", "wrong password 5"));
        var unknownWork = hasher.Verifications;

        Assert.Equal((HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized), (locked.StatusCode, unknown.StatusCode));
        Assert.Equal(1, unknownWork);
        Assert.Equal(unknownWork, lockedWork);
        var audit = await own.WithDirectoryAsync(db => db.AuditEntries
            .Where(e => e.OrganizationId == tenant.OrganizationId && e.Action == AuditActions.SignIn).Select(e => e.Outcome).ToListAsync());
        Assert.Contains("failure:locked-out", audit);
    }

    /// <summary>Identity's hasher, counting the password verifications (each one is the slow PBKDF2 work).</summary>
    sealed class CountingPasswordHasher : IPasswordHasher<CloudStoreUser>
    {
        readonly PasswordHasher<CloudStoreUser> _inner = new();
        int _verifications;

        public int Verifications { get => Volatile.Read(ref _verifications); set => Volatile.Write(ref _verifications, value); }

        public string HashPassword(CloudStoreUser user, string password) => _inner.HashPassword(user, password);

        public PasswordVerificationResult VerifyHashedPassword(CloudStoreUser user, string hashedPassword, string providedPassword)
        {
            Interlocked.Increment(ref _verifications);
            return _inner.VerifyHashedPassword(user, hashedPassword, providedPassword);
        }
    }

    [Fact]
    public async Task SecondStep_FailuresCountTowardsLockout()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var client = factory.NewClient();
        for (var i = 0; i < 5; i++)
        {
            var challenge = await PasswordStepAsync(client, tenant.Administrator);
            using var failed = await client.PostAsJsonAsync("/api/auth/two-factor", new TwoFactorRequest(challenge, WrongCode(tenant.Administrator), null));
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }

        using var response = await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(tenant.Administrator.Email, tenant.Administrator.Password));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task SignIn_PasswordOnlyWhereTwoStepRequired_GivesNoApiToken()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var client = factory.NewClient();

        var first = await (await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(tenant.Administrator.Email, tenant.Administrator.Password)))
            .Content.ReadFromJsonAsync<SignInResponse>();

        Assert.Equal(SignInResponse.TwoFactorRequired, first!.Status);
        Assert.Null(first.Tokens);
        using var withChallenge = factory.ClientWithToken(first.Challenge!);
        using var attempt = await withChallenge.GetAsync("/api/users");
        Assert.Equal(HttpStatusCode.Unauthorized, attempt.StatusCode);
    }

    [Fact]
    public async Task SignIn_NewAdministrator_MustEnrolAuthenticatorBeforeAnyToken()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var second = await tenant.AddUserAsync(Roles.Administrator, signIn: false);
        using var client = factory.NewClient();

        var first = await (await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(second.Email, second.Password))).Content.ReadFromJsonAsync<SignInResponse>();
        using var wrongConfirm = await client.PostAsJsonAsync("/api/auth/authenticator/confirm", new AuthenticatorConfirmRequest(first!.Challenge, "000000"));

        Assert.Equal(SignInResponse.AuthenticatorEnrolmentRequired, first.Status);
        Assert.Null(first.Tokens);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongConfirm.StatusCode);
    }

    [Theory]
    [InlineData(Roles.Operator)]
    [InlineData(Roles.Viewer)]
    public async Task SignIn_NewOperatorOrViewer_MustEnrolAuthenticatorBeforeAnyToken(string role)
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var user = await tenant.AddUserAsync(role, signIn: false);
        using var client = factory.NewClient();

        var first = await (await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(user.Email, user.Password))).Content.ReadFromJsonAsync<SignInResponse>();
        using var withChallenge = factory.ClientWithToken(first!.Challenge!);
        using var attempt = await withChallenge.GetAsync("/api/me");

        Assert.Equal(SignInResponse.AuthenticatorEnrolmentRequired, first.Status);
        Assert.Null(first.Tokens);
        Assert.Equal(HttpStatusCode.Unauthorized, attempt.StatusCode);
    }

    [Fact]
    public async Task SecondStep_RecoveryCode_WorksOnceOnly()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var code = tenant.Administrator.RecoveryCodes[0];
        using var client = factory.NewClient();

        using var first = await client.PostAsJsonAsync("/api/auth/two-factor", new TwoFactorRequest(await PasswordStepAsync(client, tenant.Administrator), null, code));
        using var second = await client.PostAsJsonAsync("/api/auth/two-factor", new TwoFactorRequest(await PasswordStepAsync(client, tenant.Administrator), null, code));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, second.StatusCode);
    }

    [Fact]
    public async Task SecondStep_ChallengeIsSingleUse()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var client = factory.NewClient();
        var challenge = await PasswordStepAsync(client, tenant.Administrator);

        using var first = await client.PostAsJsonAsync("/api/auth/two-factor", new TwoFactorRequest(challenge, await tenant.Administrator.NextCodeAsync(factory.Clock), null));
        using var again = await client.PostAsJsonAsync("/api/auth/two-factor", new TwoFactorRequest(challenge, await tenant.Administrator.NextCodeAsync(factory.Clock), null));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, again.StatusCode);
    }

    [Fact]
    public async Task SignIn_SuccessAndFailure_AreAuditedWithSourceAddress()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var client = factory.NewClient("2001:db8::5");
        (await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(tenant.Administrator.Email, "wrong password here"))).Dispose();
        await tenant.SignInAsync(tenant.Administrator);

        using var admin = tenant.Client(tenant.Administrator);
        var entries = await admin.GetFromJsonAsync<List<AuditEntryResponse>>($"/api/audit?action={AuditActions.SignIn}");

        var failure = Assert.Single(entries!, e => e.Outcome == "failure:wrong-password");
        Assert.Equal("2001:db8::5", failure.SourceAddress);
        Assert.Equal($"user:{tenant.Administrator.Id}", failure.Target);
        Assert.Contains(entries!, e => e.Outcome == AuditLog.Success && e.Actor == $"user:{tenant.Administrator.Id}");
    }

    /// <summary>A six-digit code the authenticator would not show in any window the server accepts.</summary>
    string WrongCode(TestUser user)
    {
        var now = factory.Clock.GetUtcNow();
        var accepted = Enumerable.Range(-3, 7).Select(step => Totp.Code(user.AuthenticatorKey!, now.AddSeconds(30 * step))).ToHashSet();
        return Enumerable.Range(0, 10).Select(d => new string((char)('0' + d), 6)).First(code => !accepted.Contains(code));
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
