using System.Globalization;

namespace CloudStore.LocalStack;

/// <summary>Where the stack keeps its state and which ports it uses (0: any free port).</summary>
public sealed record LocalCloudOptions(string StateFolder, bool PersistentStorage, int FunctionsPort = 0, int KeyServerPort = 0, int PlayerPort = 0, int AzuritePort = 0);

/// <summary>
/// The whole local stack on HTTPS loopback: Azurite (one account per region), the functions, the key
/// server and the player, each its own process, all presenting the local CA's certificate.
/// </summary>
public sealed class LocalCloud : IAsyncDisposable
{
    readonly List<IAsyncDisposable> _parts = [];

    LocalCloud(LocalCloudOptions options, CertificateFiles certificates)
    {
        Options = options;
        Certificates = certificates;
    }

    public LocalCloudOptions Options { get; }

    public CertificateFiles Certificates { get; }

    public Azurite Azurite { get; private set; } = null!;

    public Uri FunctionsUrl { get; private set; } = null!;

    public Uri KeyServerUrl { get; private set; } = null!;

    public Uri PlayerUrl { get; private set; } = null!;

    public IReadOnlyList<ChildProcess> Hosts => [.. _parts.OfType<ChildProcess>()];

    /// <summary>The token issuer: the functions API's public base URL.</summary>
    public string Issuer => new Uri(FunctionsUrl, "/api").ToString();

    public static async Task<LocalCloud> StartAsync(LocalCloudOptions options, CancellationToken cancellationToken)
    {
        var certificates = DevelopmentCertificates.Ensure(Path.Combine(options.StateFolder, "tls"), TimeProvider.System);
        var stack = new LocalCloud(options, certificates);
        try
        {
            await stack.StartPartsAsync(cancellationToken);
            return stack;
        }
        catch
        {
            await stack.DisposeAsync();
            throw;
        }
    }

    async Task StartPartsAsync(CancellationToken cancellationToken)
    {
        var logs = Path.Combine(Options.StateFolder, "logs");
        Azurite = await Azurite.StartAsync(
            Certificates, Options.PersistentStorage ? Path.Combine(Options.StateFolder, "azurite") : null,
            Path.Combine(logs, "azurite.log"), cancellationToken, Options.AzuritePort);
        _parts.Add(Azurite);

        FunctionsUrl = Loopback(Options.FunctionsPort);
        KeyServerUrl = Loopback(Options.KeyServerPort);
        PlayerUrl = Loopback(Options.PlayerPort);

        _parts.Add(await StartHostAsync("functions", "CloudStore.Functions", FunctionsUrl, "/api/health", FunctionsSettings(), logs, cancellationToken));
        _parts.Add(await StartHostAsync("keyserver", "CloudStore.KeyServer", KeyServerUrl, "/health", new Dictionary<string, string>
        {
            ["KeyServer__TokenIssuer"] = Issuer,
        }, logs, cancellationToken));
        _parts.Add(await StartHostAsync("player", "CloudStore.Player", PlayerUrl, "/health", new Dictionary<string, string>
        {
            ["Player__UseStaticWebAssets"] = "true",
            ["Player__FunctionsUrl"] = FunctionsUrl.ToString(),
            ["Player__KeyServerUrl"] = KeyServerUrl.ToString(),
        }, logs, cancellationToken));
    }

    /// <summary>Configuration of the functions host, as environment variables; also used to run its commands.</summary>
    public Dictionary<string, string> FunctionsSettings()
    {
        var folder = Path.Combine(Options.StateFolder, "functions");
        return new Dictionary<string, string>
        {
            ["Auth__Issuer"] = Issuer,
            ["Auth__SigningKeyFile"] = Path.Combine(folder, "signing-key.pem"),
            ["Directory__ConnectionString"] = $"Data Source={Path.Combine(folder, "directory.db")}",
        };
    }

    /// <summary>Environment every host gets: its address, its certificate, trust in the local CA.</summary>
    public Dictionary<string, string> CommonSettings(Uri url) => new()
    {
        ["ASPNETCORE_URLS"] = url.ToString().TrimEnd('/'),
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        ["DOTNET_NOLOGO"] = "1",
        ["Tls__CertificateFile"] = Certificates.ServerCertificate,
        ["Tls__KeyFile"] = Certificates.ServerKey,
        ["Tls__CaCertificateFile"] = Certificates.CaCertificate,
    };

    /// <param name="name">The host's folder in the repository, which is also its name in logs.</param>
    async Task<ChildProcess> StartHostAsync(
        string name, string assembly, Uri url, string readinessPath, Dictionary<string, string> settings, string logs, CancellationToken cancellationToken)
    {
        var dll = RepositoryLayout.HostAssembly(name, assembly);
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing: build the solution first (./cloudstore demo does).");
        }

        var environment = CommonSettings(url);
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        return await ChildProcess.StartAsync(name, "dotnet", [dll], environment, Path.Combine(logs, name + ".log"),
            new Uri(url, readinessPath), Certificates.CaCertificate, cancellationToken);
    }

    static Uri Loopback(int port) =>
        new(string.Create(CultureInfo.InvariantCulture, $"https://127.0.0.1:{(port == 0 ? ChildProcess.FreePort() : port)}/"));

    public async ValueTask DisposeAsync()
    {
        for (var i = _parts.Count - 1; i >= 0; i--)
        {
            await _parts[i].DisposeAsync();
        }

        _parts.Clear();
    }
}
