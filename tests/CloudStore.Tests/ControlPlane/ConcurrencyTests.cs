using System.Net;
using System.Net.Http.Json;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.Device;
using CloudStore.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Xunit;

namespace CloudStore.Tests.ControlPlane;

/// <summary>
/// Concurrency is input too: everything counted or single-use is sent N times at once, as an attacker (or a flaky
/// network retrying) would. Each case: no 5xx, exactly the allowed number of successes, every attempt counted and
/// audited. Runs on SQLite and, in the second pass of `./cloudstore test`, on PostgreSQL.
/// </summary>
public sealed class ConcurrencyTests(ConcurrencyTests.App app) : IClassFixture<ConcurrencyTests.App>
{
    const int Attempts = 15;

    public sealed class App : IAsyncLifetime
    {
        public FunctionsFactory Factory { get; } = new();

        public Task InitializeAsync() => Task.CompletedTask;

        public Task DisposeAsync() => Factory.DisposeAsync().AsTask();
    }

    FunctionsFactory Factory => app.Factory;

    [Fact]
    public async Task WrongPasswords_ForOneAccountAtOnce_No5xx_EveryAttemptAuditedAndTheAccountLocked()
    {
        var tenant = await TestTenant.CreateAsync(Factory, "Lockout");
        var user = await tenant.AddUserAsync(Roles.Operator);

        // Each from an address of its own, so that the per-client limiter is not what refuses them.
        var statuses = await AtOnceAsync(i => Factory.NewClient($"2001:db8:1::{i + 1:x}")
            .PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(user.Email, "wrong password number " + i)));

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.Equal(Attempts, await Factory.WithDirectoryAsync(db => db.AuditEntries.CountAsync(e =>
            e.Action == AuditActions.SignIn && e.SourceAddress.StartsWith("2001:db8:1::") && e.Outcome.StartsWith("failure:"))));
        Assert.True(await Factory.WithDirectoryAsync(db => db.Users.Where(u => u.Id == user.Id).Select(u => u.LockoutEnd).SingleAsync()) > Factory.Clock.GetUtcNow(),
            "five of the failures lock the account");
        using var right = Factory.NewClient();
        using var refused = await right.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(user.Email, user.Password));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task TheRightCode_ForOneChallengeAtOnce_ExactlyOneSignIn_No5xx()
    {
        var tenant = await TestTenant.CreateAsync(Factory, "Challenge");
        var user = await tenant.AddUserAsync(Roles.Operator);
        using var client = Factory.NewClient();
        using var first = await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(user.Email, user.Password));
        var challenge = (await first.Content.ReadFromJsonAsync<SignInResponse>())!.Challenge!;
        var code = await user.NextCodeAsync(Factory.Clock);

        var statuses = await AtOnceAsync(i => Factory.NewClient($"2001:db8:2::{i + 1:x}")
            .PostAsJsonAsync("/api/auth/two-factor", new TwoFactorRequest(challenge, code, null)));

        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.All(statuses.Where(s => s != HttpStatusCode.OK), s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        var audited = await Factory.WithDirectoryAsync(db => db.AuditEntries
            .Where(e => e.Action == AuditActions.SignIn && e.SourceAddress.StartsWith("2001:db8:2::")).Select(e => e.Outcome).ToListAsync());
        Assert.Equal(Attempts, audited.Count);
        Assert.Equal(1, audited.Count(o => o == AuditLog.Success));
        // Two sessions: the one from joining, and the one this code opened.
        Assert.Equal(2, await Factory.WithDirectoryAsync(db => db.RefreshTokens.CountAsync(t => t.UserId == user.Id && t.RevokedAt == null)));
    }

    [Fact]
    public async Task OneRefreshToken_UsedAtOnce_ExactlyOneSuccess_ThenTheFamilyIsRevoked()
    {
        var tenant = await TestTenant.CreateAsync(Factory, "Refresh");
        var user = await tenant.AddUserAsync(Roles.Viewer);
        var refresh = user.Tokens!.RefreshToken!;
        var issued = new List<TokenResponse>();

        var statuses = await AtOnceAsync(async i =>
        {
            var response = await Factory.NewClient($"2001:db8:3::{i + 1:x}").PostAsJsonAsync("/api/auth/token", new RefreshRequest(refresh, null));
            if (response.IsSuccessStatusCode)
            {
                var tokens = (await response.Content.ReadFromJsonAsync<TokenResponse>())!;
                lock (issued)
                {
                    issued.Add(tokens);
                }
            }

            return response;
        });

        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.All(statuses.Where(s => s != HttpStatusCode.OK), s => Assert.Equal(HttpStatusCode.Unauthorized, s));

        // The others were reuse of a spent token: the whole session ends, the winner's new token with it.
        using var client = Factory.NewClient();
        using var after = await client.PostAsJsonAsync("/api/auth/token", new RefreshRequest(issued.Single().RefreshToken!, null));
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        Assert.True(await Factory.WithDirectoryAsync(db => db.AuditEntries.CountAsync(e =>
            e.Action == AuditActions.TokenRefresh && e.Actor == $"user:{user.Id}" && e.Outcome == "failure:refresh-token-reused")) >= 1);
    }

    [Fact]
    public async Task OneEnrolmentCode_UsedAtOnceByManyKeys_ExactlyOneDeviceEnrolled()
    {
        var tenant = await TestTenant.CreateAsync(Factory, "Enrol");
        var created = await tenant.CreateDeviceAsync("RACE00000001");
        var keys = Enumerable.Range(0, Attempts).Select(_ => DeviceKey.Create()).ToList();

        var statuses = await AtOnceAsync(i => Factory.NewClient($"2001:db8:4::{i + 1:x}")
            .PostAsJsonAsync("/api/devices/enrol", new EnrolDeviceRequest(created.EnrolmentCode, "RACE00000001", keys[i].PublicKeyBase64)));

        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.All(statuses.Where(s => s != HttpStatusCode.OK), s => Assert.True(s is HttpStatusCode.Unauthorized or HttpStatusCode.BadRequest or HttpStatusCode.Conflict, s.ToString()));
        var device = await Factory.WithDirectoryAsync(db => db.Devices.SingleAsync(d => d.Id == created.DeviceId));
        Assert.Contains(keys, k => k.PublicKeyBase64 == Convert.ToBase64String(device.PublicKey!));
        var audited = await Factory.WithDirectoryAsync(db => db.AuditEntries
            .Where(e => e.Action == AuditActions.DeviceEnrolled && e.SourceAddress.StartsWith("2001:db8:4::")).Select(e => e.Outcome).ToListAsync());
        Assert.Equal(Attempts, audited.Count);
        Assert.Equal(1, audited.Count(o => o == AuditLog.Success));
        keys.ForEach(k => k.Dispose());
    }

    [Fact]
    public async Task OneDeviceAssertion_SentAtOnce_ExactlyOneAccessToken()
    {
        var tenant = await TestTenant.CreateAsync(Factory, "Assertion");
        using var camera = await tenant.AddReportingCameraAsync("RACE00000002", "Gate", DeviceClientOptions.DefaultFirmwareVersion);
        var assertion = camera.Key.CreateAssertion(camera.DeviceId, camera.Identity.AssertionAudience, Factory.Clock.GetUtcNow());

        var statuses = await AtOnceAsync(i => Factory.NewClient($"2001:db8:5::{i + 1:x}")
            .PostAsJsonAsync("/api/devices/token", new DeviceTokenRequest(DeviceTokenRequest.JwtBearerAssertionType, assertion)));

        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.All(statuses.Where(s => s != HttpStatusCode.OK), s => Assert.Equal(HttpStatusCode.Unauthorized, s));
        Assert.Equal(Attempts - 1, await Factory.WithDirectoryAsync(db => db.AuditEntries.CountAsync(e =>
            e.Action == AuditActions.DeviceAuthenticated && e.SourceAddress.StartsWith("2001:db8:5::") && e.Outcome.StartsWith("failure:"))));
    }

    /// <summary>Sends <see cref="Attempts"/> requests released together; their statuses, after checking none is a 5xx.</summary>
    static async Task<HttpStatusCode[]> AtOnceAsync(Func<int, Task<HttpResponseMessage>> send)
    {
        using var start = new SemaphoreSlim(0);
        var requests = Enumerable.Range(0, Attempts).Select(i => Task.Run(async () =>
        {
            await start.WaitAsync();
            using var response = await send(i);
            return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        })).ToList();
        start.Release(Attempts);
        var answers = await Task.WhenAll(requests);
        Assert.True(answers.All(a => (int)a.StatusCode < 500), string.Join(" | ", answers.Where(a => (int)a.StatusCode >= 500).Select(a => $"{(int)a.StatusCode} {a.Body}")));
        return [.. answers.Select(a => a.StatusCode)];
    }
}
