using System.Net;
using System.Net.Http.Json;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Auth;
using CloudStore.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace CloudStore.Tests.ControlPlane;

/// <summary>The per-client limiter, with the device defaults: 20 failures within 1 s block the client for 10 s, answered 403.</summary>
public sealed class ClientLimiterTests(FunctionsFactory factory) : IClassFixture<FunctionsFactory>, IDisposable
{
    readonly FunctionsFactory _factory = factory;

    public void Dispose() => _factory.Clock.Release();

    [Fact]
    public async Task SignIn_TwentyFailuresWithinOneSecond_BlocksThatClientForTenSeconds()
    {
        var tenant = await TestTenant.CreateAsync(_factory);
        using var attacker = _factory.NewClient("2001:db8::bad");
        using var bystander = _factory.NewClient("2001:db8::600d");
        _factory.Clock.Freeze();

        for (var i = 0; i < 19; i++)
        {
            using var failed = await attacker.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest($"guess{i}@example.test", "wrong password " + i));
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
        }

        using var twentieth = await attacker.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest("guess20@example.test", "wrong password 20"));
        using var blocked = await attacker.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(tenant.Administrator.Email, tenant.Administrator.Password));
        using var other = await bystander.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(tenant.Administrator.Email, tenant.Administrator.Password));
        _factory.Clock.Advance(TimeSpan.FromSeconds(9));
        using var stillBlocked = await attacker.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(tenant.Administrator.Email, tenant.Administrator.Password));
        _factory.Clock.Advance(TimeSpan.FromSeconds(1));
        using var released = await attacker.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(tenant.Administrator.Email, tenant.Administrator.Password));

        Assert.Equal(HttpStatusCode.Unauthorized, twentieth.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, blocked.StatusCode);
        Assert.Equal("application/problem+json", blocked.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, stillBlocked.StatusCode);
        Assert.Equal(HttpStatusCode.OK, released.StatusCode);
    }

    [Fact]
    public async Task FrontEnd_WithItsKey_ForwardsBrowserAddresses_SoOneAttackerBlocksOnlyItself_AndForgedAddressesAreIgnored()
    {
        // The web player's server is one client address for the API; with the front-end key it names the browser.
        await using var factory = new FunctionsFactory();
        var keyFile = Path.Combine(factory.Folder, "front-end.key");
        FrontEnd.EnsureKeyFile(keyFile);
        factory.With("Auth:FrontEndKeyFile", keyFile);
        var key = FrontEnd.ReadKey(keyFile);
        var tenant = await TestTenant.CreateAsync(factory);
        using var attackerViaPlayer = ViaFrontEnd(factory.NewClient("2001:db8::1a7e"), key, "2001:db8::bad");
        using var personViaPlayer = ViaFrontEnd(factory.NewClient("2001:db8::1a7e"), key, "2001:db8::600d");
        using var forger = ViaFrontEnd(factory.NewClient("2001:db8::f0"), "not the key " + key, "2001:db8::600d");
        factory.Clock.Freeze();

        for (var i = 0; i < 20; i++)
        {
            (await attackerViaPlayer.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest($"guess{i}@example.test", "wrong password " + i))).Dispose();
            (await forger.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest($"guess{i}@example.test", "wrong password " + i))).Dispose();
        }

        using var attackerBlocked = await attackerViaPlayer.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(tenant.Administrator.Email, tenant.Administrator.Password));
        using var forgerBlocked = await forger.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(tenant.Administrator.Email, tenant.Administrator.Password));
        using var person = await personViaPlayer.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(tenant.Administrator.Email, tenant.Administrator.Password));
        var sources = await factory.WithDirectoryAsync(db => db.AuditEntries.Select(e => e.SourceAddress).Distinct().ToListAsync());

        Assert.Equal(HttpStatusCode.Forbidden, attackerBlocked.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, forgerBlocked.StatusCode); // its forged address was not believed: it blocked itself
        Assert.Equal(HttpStatusCode.OK, person.StatusCode);
        Assert.Contains("2001:db8::bad", sources);
        Assert.Contains("2001:db8::f0", sources);
        Assert.DoesNotContain("2001:db8::1a7e", sources);
    }

    static HttpClient ViaFrontEnd(HttpClient client, string key, string browser)
    {
        client.DefaultRequestHeaders.Add(FrontEnd.KeyHeader, key);
        client.DefaultRequestHeaders.Add(FrontEnd.ClientAddressHeader, browser);
        return client;
    }

    [Fact]
    public async Task SignIn_TwentyFailuresSpreadOverMoreThanOneSecond_DoNotBlock()
    {
        var tenant = await TestTenant.CreateAsync(_factory);
        using var client = _factory.NewClient("2001:db8::51");
        _factory.Clock.Freeze();
        for (var i = 0; i < 25; i++)
        {
            using var failed = await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest($"slow{i}@example.test", "wrong password " + i));
            Assert.Equal(HttpStatusCode.Unauthorized, failed.StatusCode);
            _factory.Clock.Advance(TimeSpan.FromMilliseconds(100));
        }

        using var response = await client.PostAsJsonAsync("/api/auth/sign-in", new SignInRequest(tenant.Administrator.Email, tenant.Administrator.Password));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Throttle_NineteenFailuresWithinTheWindow_NotBlocked_TwentiethBlocks_OnlyThatClient()
    {
        _factory.Clock.Freeze();
        var client = NewClient();
        for (var i = 0; i < 19; i++)
        {
            await WithThrottleAsync(t => t.RecordFailureAsync(client, CancellationToken.None));
            _factory.Clock.Advance(TimeSpan.FromMilliseconds(50));
        }

        Assert.False(await ReadThrottleAsync(t => t.IsBlockedAsync(client, CancellationToken.None)));
        await WithThrottleAsync(t => t.RecordFailureAsync(client, CancellationToken.None));
        Assert.True(await ReadThrottleAsync(t => t.IsBlockedAsync(client, CancellationToken.None)));
        Assert.False(await ReadThrottleAsync(t => t.IsBlockedAsync(NewClient(), CancellationToken.None)));
    }

    [Fact]
    public async Task Throttle_BlocksForTenSeconds_ThenReleases()
    {
        _factory.Clock.Freeze();
        var client = NewClient();
        for (var i = 0; i < 20; i++)
        {
            await WithThrottleAsync(t => t.RecordFailureAsync(client, CancellationToken.None));
        }

        _factory.Clock.Advance(TimeSpan.FromSeconds(9.9));
        Assert.True(await ReadThrottleAsync(t => t.IsBlockedAsync(client, CancellationToken.None)));
        _factory.Clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.False(await ReadThrottleAsync(t => t.IsBlockedAsync(client, CancellationToken.None)));
    }

    [Fact]
    public async Task Throttle_FailuresOfAnEndedWindow_DoNotCount()
    {
        _factory.Clock.Freeze();
        var client = NewClient();
        for (var i = 0; i < 19; i++)
        {
            await WithThrottleAsync(t => t.RecordFailureAsync(client, CancellationToken.None));
        }

        _factory.Clock.Advance(TimeSpan.FromSeconds(1));
        await WithThrottleAsync(t => t.RecordFailureAsync(client, CancellationToken.None));

        Assert.False(await ReadThrottleAsync(t => t.IsBlockedAsync(client, CancellationToken.None)));
    }

    [Fact]
    public async Task Throttle_ParallelFailures_EachCountedOnce()
    {
        // Nineteen at once leave the client one short of the limit; the twentieth blocks it. A lost update would leave fewer.
        _factory.Clock.Freeze();
        var client = NewClient();
        await Task.WhenAll(Enumerable.Range(0, 19).Select(_ => Task.Run(() => WithThrottleAsync(t => t.RecordFailureAsync(client, CancellationToken.None)))));
        var counted = await _factory.WithDirectoryAsync(db => db.ClientThrottles.Where(c => c.Client == client).Select(c => c.Failures).SingleAsync());
        Assert.False(await ReadThrottleAsync(t => t.IsBlockedAsync(client, CancellationToken.None)));

        await WithThrottleAsync(t => t.RecordFailureAsync(client, CancellationToken.None));

        Assert.Equal(19, counted);
        Assert.True(await ReadThrottleAsync(t => t.IsBlockedAsync(client, CancellationToken.None)));
    }

    static string NewClient() => $"2001:db8::{Random.Shared.Next(0x10000):x}:{Random.Shared.Next(0x10000):x}";

    async Task WithThrottleAsync(Func<SignInThrottle, Task> act)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        await act(scope.ServiceProvider.GetRequiredService<SignInThrottle>());
    }

    async Task<T> ReadThrottleAsync<T>(Func<SignInThrottle, Task<T>> read)
    {
        await using var scope = _factory.Services.CreateAsyncScope();
        return await read(scope.ServiceProvider.GetRequiredService<SignInThrottle>());
    }
}
