using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using CloudStore.Contracts;
using CloudStore.ControlPlane.Audit;
using CloudStore.Device;
using CloudStore.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Xunit;

namespace CloudStore.Tests.ControlPlane;

/// <summary>
/// The firmware rule trusts only what the device itself reports in its signed assertion: enabling a camera and
/// issuing upload grants need a reported AXIS OS 11.11.73 or later, and a device that upgrades qualifies at its
/// next token request.
/// </summary>
public sealed class FirmwareReportTests(FunctionsFactory factory) : IClassFixture<FunctionsFactory>
{
    const string AssertionAudience = FunctionsFactory.Issuer + "/devices/token";

    static string Serial() => "FW" + Guid.NewGuid().ToString("N")[..10].ToUpperInvariant();

    [Theory]
    [InlineData("11.11.73", true)]
    [InlineData("11.11.100", true)]
    [InlineData("12.0", true)]
    [InlineData("11.11.72", false)]
    [InlineData("10.12.228.1", false)]
    public async Task EnableCamera_ReportedFirmware_AllowedFrom11_11_73(string firmware, bool allowed)
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var camera = await tenant.AddReportingCameraAsync(Serial(), "Entrance", firmware);
        using var admin = tenant.Client(tenant.Administrator);

        using var response = await admin.PostAsync($"/api/cameras/{camera.CameraId}/enable", null);

        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(allowed ? HttpStatusCode.OK : HttpStatusCode.Conflict, response.StatusCode);
        if (!allowed)
        {
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var detail = JsonDocument.Parse(body).RootElement.GetProperty("detail").GetString();
            Assert.Contains($"reported AXIS OS {firmware}", detail, StringComparison.Ordinal);
            Assert.Contains("needs 11.11.73 or later", detail, StringComparison.Ordinal);
        }

        var enabled = await factory.WithDirectoryAsync(db => db.Cameras.Where(c => c.Id == camera.CameraId).Select(c => c.Enabled).SingleAsync());
        Assert.Equal(allowed, enabled);
    }

    [Fact]
    public async Task EnableCamera_DeviceNeverSignedIn_ConflictSaysNoFirmwareReported()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var cameraId = await tenant.AddCameraAsync(Serial(), "Entrance");
        using var admin = tenant.Client(tenant.Administrator);

        using var response = await admin.PostAsync($"/api/cameras/{cameraId}/enable", null);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("has not reported its firmware", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(await factory.WithDirectoryAsync(db => db.Cameras.Where(c => c.Id == cameraId).Select(c => c.Enabled).SingleAsync()));
        var audited = await factory.WithDirectoryAsync(db => db.AuditEntries.Where(e => e.OrganizationId == tenant.OrganizationId && e.Action == AuditActions.CameraEnabledChanged)
            .Select(e => e.Outcome).ToListAsync());
        Assert.Equal(["failure:firmware-not-reported"], audited);
    }

    [Fact]
    public async Task EnableCamera_DeviceUpgradesTo11_11_73_EnabledAfterItsNextTokenRequest()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var camera = await tenant.AddReportingCameraAsync(Serial(), "Entrance", "11.11.72");
        using var admin = tenant.Client(tenant.Administrator);
        using var refused = await admin.PostAsync($"/api/cameras/{camera.CameraId}/enable", null);

        await camera.SignInAsync(factory, "11.11.73");
        using var enabled = await admin.PostAsync($"/api/cameras/{camera.CameraId}/enable", null);

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, enabled.StatusCode);
        var response = await enabled.Content.ReadFromJsonAsync<CameraResponse>();
        Assert.True(response!.Enabled);
        Assert.Equal("11.11.73", response.FirmwareVersion);
        var reports = await factory.WithDirectoryAsync(db => db.AuditEntries
            .Where(e => e.OrganizationId == tenant.OrganizationId && e.Action == AuditActions.DeviceFirmwareReported && e.Actor == $"device:{camera.DeviceId}")
            .OrderBy(e => e.Id).Select(e => e.Outcome).ToListAsync());
        Assert.Equal(["success:none->11.11.72", "success:11.11.72->11.11.73"], reports);
    }

    [Fact]
    public async Task IssueCredentials_DeviceNowReportsOlderFirmware_ForbiddenNamingBothVersions_UntilItReports11_11_73()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var camera = await tenant.AddReportingCameraAsync(Serial(), "Entrance", "11.11.73");
        using var admin = tenant.Client(tenant.Administrator);
        (await admin.PostAsync($"/api/cameras/{camera.CameraId}/enable", null)).EnsureSuccessStatusCode();

        using var old = factory.ClientWithToken(await camera.SignInAsync(factory, "11.11.72"));
        using var refused = await old.PostAsJsonAsync("/api/credentials", new CredentialsRequest(camera.CameraId, null));
        using var upgraded = factory.ClientWithToken(await camera.SignInAsync(factory, "11.11.73"));
        using var next = await upgraded.PostAsJsonAsync("/api/credentials", new CredentialsRequest(camera.CameraId, null));

        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        var detail = JsonDocument.Parse(await refused.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString();
        Assert.Contains("reported AXIS OS 11.11.72", detail, StringComparison.Ordinal);
        Assert.Contains("needs 11.11.73 or later", detail, StringComparison.Ordinal);

        // The in-process host serves no region, so the next rule answers: the firmware rule no longer refuses.
        Assert.Equal(HttpStatusCode.Conflict, next.StatusCode);
        var outcomes = await factory.WithDirectoryAsync(db => db.AuditEntries
            .Where(e => e.OrganizationId == tenant.OrganizationId && e.Action == AuditActions.CredentialsIssued).OrderBy(e => e.Id).Select(e => e.Outcome).ToListAsync());
        Assert.Equal(["failure:firmware-too-old:11.11.72", "failure:no-region"], outcomes);
    }

    [Fact]
    public async Task DeviceAndCameraResponses_ShowTheReportedFirmwareAndWhen()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        var before = factory.Clock.GetUtcNow().AddMilliseconds(-1);
        using var camera = await tenant.AddReportingCameraAsync(Serial(), "Entrance", "11.11.100");
        var after = factory.Clock.GetUtcNow();
        using var admin = tenant.Client(tenant.Administrator);

        var device = await admin.GetFromJsonAsync<DeviceResponse>($"/api/devices/{camera.DeviceId}");
        var one = await admin.GetFromJsonAsync<CameraResponse>($"/api/cameras/{camera.CameraId}");
        var list = await admin.GetFromJsonAsync<List<CameraOverviewResponse>>("/api/cameras");

        Assert.Equal("11.11.100", device!.FirmwareVersion);
        Assert.InRange(device.FirmwareReportedAt!.Value, before, after);
        Assert.Equal("11.11.100", one!.FirmwareVersion);
        Assert.Equal("11.11.100", list!.Single().FirmwareVersion);
    }

    [Fact]
    public async Task CreateDevice_FirmwareFieldSent_BadRequest()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var admin = tenant.Client(tenant.Administrator);

        using var response = await admin.PostAsJsonAsync("/api/devices", new { serial = Serial(), model = "AXIS M3086-V", firmwareVersion = "11.11.73" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(0, await factory.WithDirectoryAsync(db => db.Devices.CountAsync(d => d.OrganizationId == tenant.OrganizationId)));
    }

    public static TheoryData<string> BadClaims() => ["missing", "empty", "one number", "suffix", "five numbers", "too long", "a number", "an array"];

    [Theory]
    [MemberData(nameof(BadClaims))]
    public async Task DeviceToken_BadFirmwareClaim_BadRequestNamingTheClaimAndNothingStored(string flaw)
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var deviceId = await EnrolRawAsync(tenant, key);
        object? claim = flaw switch
        {
            "missing" => null,
            "empty" => "",
            "one number" => "11",
            "suffix" => "11.11.73-beta",
            "five numbers" => "11.11.73.1.2",
            "too long" => "11.11.73." + new string('1', 40),
            "a number" => 11.11,
            _ => new[] { "11.11.73" },
        };
        using var http = factory.NewClient();

        using var response = await http.PostAsJsonAsync("/api/devices/token", new DeviceTokenRequest(DeviceTokenRequest.JwtBearerAssertionType, Assertion(key, deviceId, claim)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("errors");
        Assert.True(errors.TryGetProperty(DeviceTokenRequest.FirmwareClaim, out _), errors.ToString());
        var stored = await factory.WithDirectoryAsync(db => db.Devices.SingleAsync(d => d.Id == deviceId));
        Assert.Null(stored.ReportedFirmwareVersion);
        Assert.Equal(0, await factory.WithDirectoryAsync(db => db.UsedAssertions.CountAsync(u => u.DeviceId == deviceId)));
    }

    [Fact]
    public async Task DeviceToken_FirmwareClaimSignedByAnotherKey_RefusedAndNotStored()
    {
        var tenant = await TestTenant.CreateAsync(factory);
        using var camera = await tenant.AddReportingCameraAsync(Serial(), "Entrance", "11.11.72");
        using var forger = DeviceKey.Create();
        using var http = factory.NewClient();
        var forged = forger.CreateAssertion(camera.DeviceId, AssertionAudience, factory.Clock.GetUtcNow(), "12.0");

        using var response = await http.PostAsJsonAsync("/api/devices/token", new DeviceTokenRequest(DeviceTokenRequest.JwtBearerAssertionType, forged));
        using var admin = tenant.Client(tenant.Administrator);
        using var enable = await admin.PostAsync($"/api/cameras/{camera.CameraId}/enable", null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, enable.StatusCode);
        Assert.Equal("11.11.72", await factory.WithDirectoryAsync(db => db.Devices.Where(d => d.Id == camera.DeviceId).Select(d => d.ReportedFirmwareVersion).SingleAsync()));
    }

    /// <summary>Enrols a device with a key the test holds, so it can sign assertions with any claims.</summary>
    async Task<Guid> EnrolRawAsync(TestTenant tenant, ECDsa key)
    {
        var serial = Serial();
        var created = await tenant.CreateDeviceAsync(serial);
        using var http = factory.NewClient();
        using var enrolled = await http.PostAsJsonAsync("/api/devices/enrol", new EnrolDeviceRequest(created.EnrolmentCode, serial, Convert.ToBase64String(key.ExportSubjectPublicKeyInfo())));
        enrolled.EnsureSuccessStatusCode();
        return created.DeviceId;
    }

    string Assertion(ECDsa key, Guid deviceId, object? firmware)
    {
        var now = factory.Clock.GetUtcNow();
        var claims = new Dictionary<string, object>
        {
            [JwtRegisteredClaimNames.Sub] = deviceId.ToString(),
            [JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N"),
        };
        if (firmware is not null)
        {
            claims[DeviceTokenRequest.FirmwareClaim] = firmware;
        }

        return new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = deviceId.ToString(),
            Audience = AssertionAudience,
            Claims = claims,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = now.AddSeconds(60).UtcDateTime,
            SigningCredentials = new SigningCredentials(new ECDsaSecurityKey(key), SecurityAlgorithms.EcdsaSha256),
        });
    }
}
