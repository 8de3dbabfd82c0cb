using System.Globalization;
using System.Net;
using CloudStore.LocalStack;
using Xunit;

namespace CloudStore.Tests.Stack;

/// <summary>
/// The functions app as an Azure Functions custom handler: with FUNCTIONS_CUSTOMHANDLER_PORT set it
/// answers the host's readiness poll on GET / and serves /api on that port, on loopback only.
/// </summary>
public sealed class CustomHandlerTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("cloudstore-handler-").FullName;

    [Fact]
    public async Task Functions_UnderTheFunctionsHost_ListensOnTheHandlerPortOnLoopback()
    {
        var port = ChildProcess.FreePort();
        var environment = new Dictionary<string, string>
        {
            ["FUNCTIONS_CUSTOMHANDLER_PORT"] = port.ToString(CultureInfo.InvariantCulture),
            ["Auth__Issuer"] = "https://functions.example.test/api",
            ["Auth__SigningKeyFile"] = Path.Combine(_folder, "signing-key.pem"),
            ["Directory__ConnectionString"] = $"Data Source={Path.Combine(_folder, "directory.db")}",
        };
        var root = new Uri($"http://127.0.0.1:{port}/");
        await using var functions = await ChildProcess.StartAsync(
            "functions", "dotnet", [RepositoryLayout.HostAssembly("functions", "CloudStore.Functions")], environment,
            Path.Combine(_folder, "functions.log"), root, caCertificateFile: null, CancellationToken.None);
        using var client = new HttpClient(new SocketsHttpHandler()) { BaseAddress = root };

        using var poll = await client.GetAsync("/");
        using var health = await client.GetAsync("/api/health");

        Assert.Equal(HttpStatusCode.OK, poll.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        var listening = File.ReadAllLines("/proc/net/tcp").Skip(1).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(f => f[3] == "0A" && int.Parse(f[1].Split(':')[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port)
            .Select(f => f[1].Split(':')[0]).ToList();
        Assert.Equal(["0100007F"], listening);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
