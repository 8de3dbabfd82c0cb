using System.Net;
using System.Net.Http.Json;
using CloudStore.Contracts;
using CloudStore.Device;
using CloudStore.ControlPlane.Devices;
using CloudStore.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Xunit;

namespace CloudStore.Tests.ControlPlane;

public sealed class DeviceTests(FunctionsFactory factory) : IClassFixture<FunctionsFactory>
{
    const string AssertionAudience = FunctionsFactory.Issuer + "/devices/token";

    static async Task<(Guid DeviceId, string Code)> CreateDeviceAsync(TestTenant tenant, string serial)
    {
        var created = await tenant.CreateDeviceAsync(serial);
        return (created.DeviceId, created.EnrolmentCode);
    }

    [Fact]
    public async Task Device_EnrolsThenAuthenticatesWithAssertions_SeesOnlyItself()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var (deviceId, code) = await CreateDeviceAsync(tenant, "ACCC8E000001");
        using var key = DeviceKey.Create();
        var client = factory.DeviceClient(key);

        var enrolled = await client.EnrolAsync(code, "ACCC8E000001", CancellationToken.None);
        var token = await client.AccessTokenAsync(enrolled.DeviceId, enrolled.AssertionAudience, CancellationToken.None);
        using var http = factory.ClientWithToken(token);
        var self = await http.GetFromJsonAsync<DeviceSelfResponse>("/api/devices/self");
        using var users = await http.GetAsync("/api/users");

        Assert.Equal(deviceId, enrolled.DeviceId);
        Assert.Equal(AssertionAudience, enrolled.AssertionAudience);
        Assert.Equal(deviceId, self!.DeviceId);
        Assert.Equal(HttpStatusCode.Forbidden, users.StatusCode);
        var stored = await factory.WithDirectoryAsync(db => db.Devices.SingleAsync(d => d.Id == deviceId));
        Assert.Null(stored.EnrolmentCodeHash);
        Assert.Equal(Convert.FromBase64String(key.PublicKeyBase64), stored.PublicKey);
    }

    [Fact]
    public async Task Enrol_CodeUsedTwice_SecondRefused()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var (_, code) = await CreateDeviceAsync(tenant, "ACCC8E000002");
        using var first = DeviceKey.Create();
        using var second = DeviceKey.Create();
        await factory.DeviceClient(first).EnrolAsync(code, "ACCC8E000002", CancellationToken.None);

        var refused = await Assert.ThrowsAsync<DeviceRequestRefusedException>(() => factory.DeviceClient(second).EnrolAsync(code, "ACCC8E000002", CancellationToken.None));

        Assert.Equal(400, refused.Status);
        var stored = await factory.WithDirectoryAsync(db => db.Devices.SingleAsync(d => d.Serial == "ACCC8E000002" && d.OrganizationId == tenant.OrganizationId));
        Assert.Equal(Convert.FromBase64String(first.PublicKeyBase64), stored.PublicKey);
    }

    [Fact]
    public async Task Enrol_ExpiredCode_Refused()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var (deviceId, code) = await CreateDeviceAsync(tenant, "ACCC8E000003");
        using var key = DeviceKey.Create();
        factory.Clock.Advance(TimeSpan.FromHours(25));
        try
        {
            var refused = await Assert.ThrowsAsync<DeviceRequestRefusedException>(() => factory.DeviceClient(key).EnrolAsync(code, "ACCC8E000003", CancellationToken.None));
            Assert.Equal(400, refused.Status);
        }
        finally
        {
            factory.Clock.Advance(TimeSpan.FromHours(-25));
        }

        var stored = await factory.WithDirectoryAsync(db => db.Devices.SingleAsync(d => d.Id == deviceId));
        Assert.Equal(DeviceStatus.Pending, stored.Status);
        Assert.Null(stored.PublicKey);
    }

    [Fact]
    public async Task Enrol_CodePresentedForAnotherSerial_Refused()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var (deviceId, code) = await CreateDeviceAsync(tenant, "ACCC8E000004");
        using var key = DeviceKey.Create();

        var refused = await Assert.ThrowsAsync<DeviceRequestRefusedException>(() => factory.DeviceClient(key).EnrolAsync(code, "ACCC8E999999", CancellationToken.None));

        Assert.Equal(400, refused.Status);
        var stored = await factory.WithDirectoryAsync(db => db.Devices.SingleAsync(d => d.Id == deviceId));
        Assert.Equal(DeviceStatus.Pending, stored.Status);
    }

    [Fact]
    public async Task RevokedDevice_RefusedAtTokenEndpointAndWithItsLiveToken()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var (deviceId, code) = await CreateDeviceAsync(tenant, "ACCC8E000005");
        using var key = DeviceKey.Create();
        var client = factory.DeviceClient(key);
        await client.EnrolAsync(code, "ACCC8E000005", CancellationToken.None);
        using var live = factory.ClientWithToken(await client.AccessTokenAsync(deviceId, AssertionAudience, CancellationToken.None));
        using var admin = tenant.Client(tenant.Administrator);

        (await admin.PostAsync($"/api/devices/{deviceId}/revoke", null)).EnsureSuccessStatusCode();
        using var withLiveToken = await live.GetAsync("/api/devices/self");
        var refused = await Assert.ThrowsAsync<DeviceRequestRefusedException>(() =>
            factory.DeviceClient(key).AccessTokenAsync(deviceId, AssertionAudience, CancellationToken.None));

        Assert.Equal(HttpStatusCode.Forbidden, withLiveToken.StatusCode);
        Assert.Contains("revoked", await withLiveToken.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(403, refused.Status);
        Assert.Contains("revoked", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeviceToken_EachNewAssertion_AcceptedAgainAndAgain()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var (deviceId, code) = await CreateDeviceAsync(tenant, "ACCC8E000007");
        using var key = DeviceKey.Create();
        await factory.DeviceClient(key).EnrolAsync(code, "ACCC8E000007", CancellationToken.None);
        using var http = factory.NewClient();

        for (var i = 0; i < 3; i++)
        {
            var assertion = key.CreateAssertion(deviceId, AssertionAudience, factory.Clock.GetUtcNow());
            using var response = await http.PostAsJsonAsync("/api/devices/token", new DeviceTokenRequest(DeviceTokenRequest.JwtBearerAssertionType, assertion));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task DeviceToken_ReplayedAssertion_Refused()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var (deviceId, code) = await CreateDeviceAsync(tenant, "ACCC8E000006");
        using var key = DeviceKey.Create();
        await factory.DeviceClient(key).EnrolAsync(code, "ACCC8E000006", CancellationToken.None);
        var assertion = key.CreateAssertion(deviceId, AssertionAudience, factory.Clock.GetUtcNow());
        using var http = factory.NewClient();

        using var first = await http.PostAsJsonAsync("/api/devices/token", new DeviceTokenRequest(DeviceTokenRequest.JwtBearerAssertionType, assertion));
        using var replay = await http.PostAsJsonAsync("/api/devices/token", new DeviceTokenRequest(DeviceTokenRequest.JwtBearerAssertionType, assertion));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, replay.StatusCode);
    }

    [Theory]
    [InlineData("another key")]
    [InlineData("wrong audience")]
    [InlineData("expired")]
    [InlineData("too long-lived")]
    [InlineData("another device's id")]
    public async Task DeviceToken_BadAssertion_Refused(string flaw)
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var serial = "ACCC8E1" + Random.Shared.Next(10000, 99999).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var (deviceId, code) = await CreateDeviceAsync(tenant, serial);
        using var key = DeviceKey.Create();
        using var otherKey = DeviceKey.Create();
        await factory.DeviceClient(key).EnrolAsync(code, serial, CancellationToken.None);
        var now = factory.Clock.GetUtcNow();
        var assertion = flaw switch
        {
            "another key" => otherKey.CreateAssertion(deviceId, AssertionAudience, now),
            "wrong audience" => key.CreateAssertion(deviceId, "https://elsewhere.test/token", now),
            "expired" => key.CreateAssertion(deviceId, AssertionAudience, now.AddMinutes(-10)),
            "too long-lived" => key.CreateAssertion(deviceId, AssertionAudience, now.AddHours(1)),
            _ => key.CreateAssertion(Guid.NewGuid(), AssertionAudience, now),
        };
        using var http = factory.NewClient();

        using var response = await http.PostAsJsonAsync("/api/devices/token", new DeviceTokenRequest(DeviceTokenRequest.JwtBearerAssertionType, assertion));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
