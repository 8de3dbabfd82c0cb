using System.Globalization;
using System.Net;
using System.Text.Json;
using CloudStore.Contracts;
using CloudStore.LocalStack;
using Xunit;

namespace CloudStore.Tests.Observability;

/// <summary>The hosts' health endpoints name their checks and answer 503 when one fails.</summary>
public sealed class HealthTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("cloudstore-health-").FullName;

    [Fact]
    public async Task KeyServerHealth_AllChecksPass_Answers200WithEachCheck()
    {
        await using var keyServer = new KeyServerFactory();
        using var client = keyServer.CreateClient();

        var (status, report) = await HealthAsync(client);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Healthy", report.GetProperty("status").GetString());
        Assert.Equal("Healthy", Check(report, "audit-database").GetProperty("status").GetString());
        Assert.Equal("Healthy", Check(report, "key-store").GetProperty("status").GetString());
    }

    [Fact]
    public async Task KeyServerHealth_KeyStoreFolderGone_Answers503NamingTheCheck()
    {
        await using var keyServer = new KeyServerFactory();
        using var client = keyServer.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await HealthAsync(client)).Status);

        Directory.Delete(keyServer.KeyStoreRoot, recursive: true);
        var (status, report) = await HealthAsync(client);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("Unhealthy", report.GetProperty("status").GetString());
        Assert.Equal("Unhealthy", Check(report, "key-store").GetProperty("status").GetString());
        Assert.Equal("missing", Check(report, "key-store").GetProperty("description").GetString());
        Assert.Equal("Healthy", Check(report, "audit-database").GetProperty("status").GetString());
    }

    [Fact]
    public async Task KeyServerHealth_AuditDatabaseGone_Answers503WithoutExceptionText()
    {
        await using var keyServer = new KeyServerFactory();
        using var client = keyServer.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await HealthAsync(client)).Status);

        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in Directory.EnumerateFiles(keyServer.Folder, "audit.db*"))
        {
            File.Delete(file);
        }

        var (status, report) = await HealthAsync(client);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        var audit = Check(report, "audit-database");
        Assert.Equal("Unhealthy", audit.GetProperty("status").GetString());
        Assert.Equal("not readable", audit.GetProperty("description").GetString());
        Assert.DoesNotContain("SQLite", report.GetRawText(), StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(keyServer.Folder, report.GetRawText(), StringComparison.Ordinal);
    }

    /// <summary>
    /// The player as the local stack runs it (its own process, HTTPS), with stand-ins for the functions
    /// API and the key server that answer their health URLs until stopped.
    /// </summary>
    [Fact]
    public async Task PlayerHealth_KeyServerBecomesUnreachable_TurnsFrom200To503()
    {
        await using var functions = LoopbackReceiver.Start();
        var keyServer = LoopbackReceiver.Start();
        try
        {
            var certificates = DevelopmentCertificates.Ensure(Path.Combine(_folder, "tls"), TimeProvider.System);
            var url = new Uri(string.Create(CultureInfo.InvariantCulture, $"https://127.0.0.1:{ChildProcess.FreePort()}/"));
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await using var player = await StartPlayerAsync(certificates, url, functions.Endpoint, keyServer.Endpoint, timeout.Token);
            using var client = new HttpClient(TrustedHttp.CreateHandler(certificates.CaCertificate)) { BaseAddress = url };

            var (upStatus, up) = await HealthAsync(client);
            Assert.Equal(HttpStatusCode.OK, upStatus);
            Assert.Equal("Healthy", Check(up, "functions-api").GetProperty("status").GetString());
            Assert.Equal("Healthy", Check(up, "key-server").GetProperty("status").GetString());
            Assert.Contains(functions.Requests, r => r.Path == "/api/health");
            Assert.Contains(keyServer.Requests, r => r.Path == "/health");

            var keyServerPort = keyServer.Endpoint.Port.ToString(CultureInfo.InvariantCulture);
            await keyServer.DisposeAsync();
            var (downStatus, down) = await HealthAsync(client);

            Assert.Equal(HttpStatusCode.ServiceUnavailable, downStatus);
            Assert.Equal("Unhealthy", down.GetProperty("status").GetString());
            Assert.Equal("Healthy", Check(down, "functions-api").GetProperty("status").GetString());
            Assert.Equal("Unhealthy", Check(down, "key-server").GetProperty("status").GetString());
            Assert.Equal("unreachable", Check(down, "key-server").GetProperty("description").GetString());
            Assert.DoesNotContain("refused", down.GetRawText(), StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(keyServerPort, down.GetRawText(), StringComparison.Ordinal);
        }
        finally
        {
            await keyServer.DisposeAsync();
        }
    }

    [Fact]
    public async Task PlayerHealth_FunctionsAnswers503_Answers503()
    {
        await using var functions = LoopbackReceiver.Start();
        await using var keyServer = LoopbackReceiver.Start();
        functions.Answer = 503;
        var certificates = DevelopmentCertificates.Ensure(Path.Combine(_folder, "tls"), TimeProvider.System);
        var url = new Uri(string.Create(CultureInfo.InvariantCulture, $"https://127.0.0.1:{ChildProcess.FreePort()}/"));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await using var player = await StartPlayerAsync(certificates, url, functions.Endpoint, keyServer.Endpoint, timeout.Token);
        using var client = new HttpClient(TrustedHttp.CreateHandler(certificates.CaCertificate)) { BaseAddress = url };

        var (status, report) = await HealthAsync(client);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("answered 503", Check(report, "functions-api").GetProperty("description").GetString());
        Assert.Equal("Healthy", Check(report, "key-server").GetProperty("status").GetString());
        Assert.Equal("Healthy", Check(report, "player-database").GetProperty("status").GetString());
    }

    Task<ChildProcess> StartPlayerAsync(CertificateFiles certificates, Uri url, Uri functionsUrl, Uri keyServerUrl, CancellationToken cancellationToken)
    {
        var dll = RepositoryLayout.HostAssembly("player", "CloudStore.Player");
        return ChildProcess.StartAsync("player", "dotnet", [dll, "--contentRoot", Path.GetDirectoryName(dll)!],
            new Dictionary<string, string>
            {
                ["ASPNETCORE_URLS"] = url.ToString().TrimEnd('/'),
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["Tls__CertificateFile"] = certificates.ServerCertificate,
                ["Tls__KeyFile"] = certificates.ServerKey,
                ["Tls__CaCertificateFile"] = certificates.CaCertificate,
                ["Player__UseStaticWebAssets"] = "true",
                ["Player__FunctionsUrl"] = functionsUrl.ToString(),
                ["Player__KeyServerUrl"] = keyServerUrl.ToString(),
                ["Player__Database__ConnectionString"] = $"Data Source={Path.Combine(_folder, "player", "player.db")}",
                ["Player__Database__ApplyMigrationsOnStart"] = "true",
            },
            Path.Combine(_folder, "player.log"), new Uri(url, "/health"), certificates.CaCertificate, cancellationToken);
    }

    static async Task<(HttpStatusCode Status, JsonElement Report)> HealthAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/health");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, json.RootElement.Clone());
    }

    static JsonElement Check(JsonElement report, string name) => report.GetProperty("checks").GetProperty(name);

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
