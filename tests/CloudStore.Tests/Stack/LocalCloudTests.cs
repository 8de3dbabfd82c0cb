using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using CloudStore.Contracts;
using CloudStore.LocalStack;
using CloudStore.Tests.Infrastructure;
using Xunit;

namespace CloudStore.Tests.Stack;

/// <summary>The hosts and Azurite as real processes: TLS policy, headers, the blob SDK, and tokens across hosts.</summary>
public sealed class LocalCloudTests(LocalCloudFixture stack) : IClassFixture<LocalCloudFixture>
{
    public static TheoryData<string> Hosts => ["functions", "keyserver", "player", "azurite"];

    public static TheoryData<string> WebHosts => ["functions", "keyserver", "player"];

    [Theory]
    [MemberData(nameof(Hosts))]
    public async Task Handshake_Tls11AndOlder_Refused_Tls12And13_Accepted(string host)
    {
        var port = Port(host);

        var ca = stack.Cloud.Certificates.CaCertificate;
        var tls10 = await OpenSslHandshakeAsync(port, "-tls1", ca);
        var tls11 = await OpenSslHandshakeAsync(port, "-tls1_1", ca);
        var tls12 = await OpenSslHandshakeAsync(port, "-tls1_2", ca);
        var tls13 = await OpenSslHandshakeAsync(port, "-tls1_3", ca);

        Assert.False(tls10.Succeeded, tls10.Output);
        Assert.False(tls11.Succeeded, tls11.Output);
        Assert.Contains("alert protocol version", tls11.Output, StringComparison.Ordinal);
        Assert.True(tls12.Succeeded, tls12.Output);
        Assert.Contains("Protocol version: TLSv1.2", tls12.Output, StringComparison.Ordinal);
        Assert.True(tls13.Succeeded, tls13.Output);
        Assert.Contains("Protocol version: TLSv1.3", tls13.Output, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(WebHosts))]
    public async Task Responses_CarryTheSecurityHeaders_OnSuccessAndOnError(string host)
    {
        using var client = stack.Client(Url(host));
        using var ok = await client.GetAsync("/health" is var health && host == "functions" ? "/api/health" : health);
        using var missing = await client.GetAsync("/no/such/page");

        foreach (var response in new[] { ok, missing })
        {
            Assert.Equal("SAMEORIGIN", Header(response, "X-Frame-Options"));
            Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
            Assert.Equal("strict-origin-when-cross-origin", Header(response, "Referrer-Policy"));
            var csp = Header(response, "Content-Security-Policy");
            Assert.Contains("default-src 'self'", csp, StringComparison.Ordinal);
            Assert.Contains("object-src 'none'", csp, StringComparison.Ordinal);
            Assert.Contains("frame-ancestors 'self'", csp, StringComparison.Ordinal);
            Assert.Contains("media-src 'self' blob:", csp, StringComparison.Ordinal);
            Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
            Assert.StartsWith("max-age=", Header(response, "Strict-Transport-Security"), StringComparison.Ordinal);
        }

        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        if (host != "player")
        {
            Assert.Equal("no-store", Header(ok, "Cache-Control"));
        }
    }

    [Theory]
    [MemberData(nameof(WebHosts))]
    public async Task PlainHttp_ToAHost_GetsNoService(string host)
    {
        using var client = new HttpClient(new SocketsHttpHandler()) { Timeout = TimeSpan.FromSeconds(10) };
        var plain = new UriBuilder(Url(host)) { Scheme = "http" }.Uri;

        var answered = false;
        try
        {
            using var response = await client.GetAsync(new Uri(plain, "/health"));
            answered = response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
        }

        Assert.False(answered);
    }

    [Fact]
    public async Task MigrateCommand_OnTheStacksDatabases_AppliesNothingTheHostHadNotApplied_AndSaysSoForEachRegion()
    {
        // The functions host migrated its databases at start; the operations command finds nothing left to do.
        var output = await Demo.RunFunctionsCommandAsync(stack.Cloud, ["migrate"], CancellationToken.None);

        using var applied = System.Text.Json.JsonDocument.Parse(output);
        Assert.Equal(0, applied.RootElement.GetProperty("directory").GetArrayLength());
        var regions = applied.RootElement.GetProperty("regions");
        Assert.Equal(Regions.All.Order(StringComparer.Ordinal), regions.EnumerateObject().Select(r => r.Name).Order(StringComparer.Ordinal));
        Assert.All(regions.EnumerateObject(), region => Assert.Equal(0, region.Value.GetArrayLength()));
    }

    [Fact]
    public async Task Azurite_BlobWrittenAndReadThroughTheSdk_BytesEqual_AndStaysInItsRegionsAccount()
    {
        var frankfurt = BlobService(stack.Cloud.Azurite.Account(Regions.EuFrankfurt));
        var sydney = BlobService(stack.Cloud.Azurite.Account(Regions.AustraliaSydney));
        var container = frankfurt.GetBlobContainerClient("roundtrip-" + Guid.NewGuid().ToString("N")[..8]);
        await container.CreateAsync();
        var data = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);

        await container.GetBlobClient("segment.bin").UploadAsync(new BinaryData(data));
        var downloaded = await container.GetBlobClient("segment.bin").DownloadContentAsync();

        Assert.Equal(data, downloaded.Value.Content.ToArray());
        Assert.False(await sydney.GetBlobContainerClient(container.Name).ExistsAsync());
    }

    [Fact]
    public async Task KeyServer_ValidatesFunctionsTokensOnItsOwn_ByAudience()
    {
        using var functions = stack.Client(stack.Cloud.FunctionsUrl);
        var apiTokens = await ProvisionAndSignInAsync(functions);
        var keyServerTokens = await (await functions.PostAsJsonAsync("/api/auth/token", new RefreshRequest(apiTokens.RefreshToken!, Audiences.KeyServer)))
            .Content.ReadFromJsonAsync<TokenResponse>();
        using var keyServer = stack.Client(stack.Cloud.KeyServerUrl);

        using var anonymous = await keyServer.GetAsync("/v1/caller");
        using var apiAudience = await keyServer.SendAsync(WithBearer("/v1/caller", apiTokens.AccessToken));
        using var keyServerAudience = await keyServer.SendAsync(WithBearer("/v1/caller", keyServerTokens!.AccessToken));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, apiAudience.StatusCode);
        Assert.Equal(HttpStatusCode.OK, keyServerAudience.StatusCode);
        Assert.Contains(Roles.Administrator, await keyServerAudience.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task KeyServer_DestroyKeys_RefusedToPeople_ForTheControlPlaneTheKeyIsGoneForGood()
    {
        using var functions = stack.Client(stack.Cloud.FunctionsUrl);
        var apiTokens = await ProvisionAndSignInAsync(functions);
        var organization = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(apiTokens.AccessToken).GetClaim(ClaimNames.Organization).Value;
        var administrator = (await (await functions.PostAsJsonAsync("/api/auth/token", new RefreshRequest(apiTokens.RefreshToken!, Audiences.KeyServer)))
            .Content.ReadFromJsonAsync<TokenResponse>())!.AccessToken;
        var auth = new global::CloudStore.ControlPlane.Auth.AuthOptions { Issuer = stack.Cloud.Issuer, SigningKeyFile = stack.Cloud.FunctionsSettings()["Auth__SigningKeyFile"] };
        using var signingKeys = new global::CloudStore.ControlPlane.Auth.SigningKeys(Microsoft.Extensions.Options.Options.Create(auth));
        var service = new global::CloudStore.ControlPlane.Auth.AccessTokens(signingKeys, Microsoft.Extensions.Options.Options.Create(auth), TimeProvider.System).ForService().AccessToken;
        var keys = $"/v1/organizations/{organization}/regions/{Regions.EuFrankfurt}";
        using var keyServer = stack.Client(stack.Cloud.KeyServerUrl);

        using var made = await keyServer.SendAsync(WithBearer(keys + "/public-key", service));
        using var byAdministrator = await keyServer.SendAsync(WithBearer(keys + "/keys", administrator, HttpMethod.Delete));
        using var anonymous = await keyServer.DeleteAsync(new Uri(keys + "/keys", UriKind.Relative));
        using var stillThere = await keyServer.SendAsync(WithBearer(keys + "/public-key", service));
        using var destroyed = await keyServer.SendAsync(WithBearer(keys + "/keys", service, HttpMethod.Delete));
        using var destroyedAgain = await keyServer.SendAsync(WithBearer(keys + "/keys", service, HttpMethod.Delete));
        using var afterwards = await keyServer.SendAsync(WithBearer(keys + "/public-key", service));

        Assert.Equal(HttpStatusCode.OK, made.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, byAdministrator.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(await made.Content.ReadAsStringAsync(), await stillThere.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NoContent, destroyed.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, destroyedAgain.StatusCode);
        Assert.Equal(HttpStatusCode.Gone, afterwards.StatusCode);
    }

    [Fact]
    public async Task CameraCli_EnrolsAndAuthenticatesAgainstTheRealHost()
    {
        using var functions = stack.Client(stack.Cloud.FunctionsUrl);
        await ProvisionAndSignInAsync(functions);
        var serial = "CLI" + Guid.NewGuid().ToString("N")[..9].ToUpperInvariant();
        var created = await (await functions.PostAsJsonAsync("/api/devices", new CreateDeviceRequest(serial, "AXIS M3086-V")))
            .Content.ReadFromJsonAsync<EnrolmentCodeResponse>();
        var keyFile = Path.Combine(stack.Cloud.Options.StateFolder, $"camera-{serial}.pem");
        string[] common = ["--api", new Uri(stack.Cloud.FunctionsUrl, "/api").ToString(), "--ca", stack.Cloud.Certificates.CaCertificate, "--key", keyFile];

        var enrol = await Cli.RunCameraAsync(["enrol", .. common, "--code", created!.EnrolmentCode, "--serial", serial]);
        var whoami = await Cli.RunCameraAsync(["whoami", .. common]);
        var again = await Cli.RunCameraAsync(["enrol", .. common, "--code", created.EnrolmentCode, "--serial", serial]);

        Assert.Equal(0, enrol.ExitCode);
        Assert.Contains(created.DeviceId.ToString(), enrol.Output, StringComparison.Ordinal);
        Assert.Equal(0, whoami.ExitCode);
        Assert.Contains(serial, whoami.Output, StringComparison.Ordinal);
        Assert.NotEqual(0, again.ExitCode);
        Assert.Contains("Refused (400)", again.Output, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
    }

    [Theory]
    [InlineData("functions", "GET", "/api/cameras/00000000-0000-0000-0000-000000000001/playlist.m3u8")]
    [InlineData("functions", "POST", "/api/cameras/00000000-0000-0000-0000-000000000001/tamper-reports")]
    [InlineData("keyserver", "GET", "/v1/keys/00000000000000000000000000000001")]
    public async Task Cors_OnlyThePlayersOriginMayCallFromABrowser(string host, string method, string path)
    {
        using var client = stack.Client(Url(host));
        var player = stack.Cloud.PlayerUrl.GetLeftPart(UriPartial.Authority);

        async Task<(string? Origin, string? Methods, string? MaxAge)> AllowedAsync(string origin)
        {
            using var preflight = new HttpRequestMessage(HttpMethod.Options, path);
            preflight.Headers.Add("Origin", origin);
            preflight.Headers.Add("Access-Control-Request-Method", method);
            preflight.Headers.Add("Access-Control-Request-Headers", method == "POST" ? "authorization,content-type" : "authorization");
            using var response = await client.SendAsync(preflight);
            return (response.Headers.TryGetValues("Access-Control-Allow-Origin", out var values) ? values.Single() : null,
                response.Headers.TryGetValues("Access-Control-Allow-Methods", out var methods) ? string.Join(",", methods) : null,
                response.Headers.TryGetValues("Access-Control-Max-Age", out var maxAge) ? maxAge.Single() : null);
        }

        var allowed = await AllowedAsync(player);
        Assert.Equal(player, allowed.Origin);
        Assert.Contains(method, allowed.Methods ?? "", StringComparison.Ordinal);
        // The live playlist's reloads and repeated requests are not preflighted each time (Chromium's cap: 2 hours).
        Assert.Equal("7200", allowed.MaxAge);
        Assert.Null((await AllowedAsync("https://attacker.example")).Origin);
        Assert.Null((await AllowedAsync("null")).Origin);
    }

    [Fact]
    public async Task Functions_BodyOverTheLimit_413Problem()
    {
        using var client = stack.Client(stack.Cloud.FunctionsUrl);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/sign-in")
        {
            Content = new StringContent("{\"email\":\"" + new string('a', 200_000) + "\",\"password\":\"x\"}", MediaTypeHeaderValue.Parse("application/json")),
        };

        // As clients that send large bodies do: the server refuses on the declared length before the body is sent. Without
        // this, a server that answers and closes while the client is still sending left the client a broken pipe (CI, once).
        request.Headers.ExpectContinue = true;
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    /// <summary>A new organisation through the operations command; its administrator signs in over real HTTPS and <paramref name="functions"/> carries the token.</summary>
    async Task<TokenResponse> ProvisionAndSignInAsync(HttpClient functions)
    {
        var password = TestTenant.NewPassword();
        var passwordFile = Path.Combine(stack.Cloud.Options.StateFolder, "pw-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(passwordFile, password);
        var email = $"admin-{Guid.NewGuid():N}@stack.test";
        await Demo.RunFunctionsCommandAsync(stack.Cloud, ["provision", "--name", "Stack test", "--admin-email", email, "--admin-password-file", passwordFile], CancellationToken.None);
        File.Delete(passwordFile);
        var tokens = await SignInFlow.SignInAsync(functions, new TestUser(Guid.Empty, email, password, Roles.Administrator), TimeProvider.System);
        functions.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.AccessToken);
        return tokens;
    }

    BlobServiceClient BlobService(StorageAccount account) => new(account.ConnectionString, new BlobClientOptions
    {
        Transport = new HttpClientTransport(new HttpClient(TrustedHttp.CreateHandler(stack.Cloud.Certificates.CaCertificate))),
    });

    static HttpRequestMessage WithBearer(string path, string token, HttpMethod? method = null)
    {
        var request = new HttpRequestMessage(method ?? HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return request;
    }

    static string Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(", ", values)
            : throw new Xunit.Sdk.XunitException($"{name} missing on {(int)response.StatusCode} {response.RequestMessage?.RequestUri}");

    Uri Url(string host) => host switch
    {
        "functions" => stack.Cloud.FunctionsUrl,
        "keyserver" => stack.Cloud.KeyServerUrl,
        "player" => stack.Cloud.PlayerUrl,
        _ => new Uri($"https://127.0.0.1:{stack.Cloud.Azurite.Port}/"),
    };

    int Port(string host) => Url(host).Port;

    /// <summary>
    /// A handshake by openssl s_client, at security level 0 so that the client really offers old
    /// versions: a refusal then comes from the server, not from the client's own policy.
    /// </summary>
    static async Task<(bool Succeeded, string Output)> OpenSslHandshakeAsync(int port, string versionFlag, string caFile)
    {
        var start = new ProcessStartInfo("openssl")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "s_client", "-connect", $"127.0.0.1:{port}", versionFlag, "-cipher", "DEFAULT@SECLEVEL=0", "-brief", "-CAfile", caFile, "-verify_return_error" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("openssl is not installed (./cloudstore test installs it).");
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode == 0 && output.Contains("CONNECTION ESTABLISHED", StringComparison.Ordinal), output);
    }
}
