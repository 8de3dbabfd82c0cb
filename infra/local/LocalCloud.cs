using System.Globalization;
using CloudStore.Contracts;

namespace CloudStore.LocalStack;

/// <summary>Where the stack keeps its state and which ports it uses (0: any free port).</summary>
public sealed record LocalCloudOptions(
    string StateFolder, bool PersistentStorage, int FunctionsPort = 0, int KeyServerPort = 0, int PlayerPort = 0, int AzuritePort = 0, int S3Port = 0,
    int SmtpPort = 0, int MailWebPort = 0)
{
    /// <summary>Regions stored in S3 (the local S3 server); the others in Azure Blob storage (Azurite). N. Virginia is on AWS.</summary>
    public IReadOnlyList<string> S3Regions { get; init; } = [Contracts.Regions.UsVirginia];

    /// <summary>Azure regions reached with an Entra ID identity (user-delegation SAS) rather than an account key.</summary>
    public IReadOnlyList<string> UserDelegationRegions { get; init; } = [Contracts.Regions.UkLondon];

    /// <summary>
    /// <c>sqlite</c> (the embedded default: one file for the directory, one per region's index) or <c>postgresql</c>: a
    /// PostgreSQL server of the stack's own (Debian's package) with a database for the directory, one per region and one for the player.
    /// </summary>
    public string Database { get; init; } = "sqlite";

    /// <summary>Settings of the functions hosts beyond the stack's own (tests that need, say, a longer limiter window).</summary>
    public IReadOnlyDictionary<string, string> ExtraFunctionsSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>Settings of the players beyond the stack's own (tests that offer single sign-on, say).</summary>
    public IReadOnlyDictionary<string, string> ExtraPlayerSettings { get; init; } = new Dictionary<string, string>();

    /// <summary>
    /// More settings for the stack's PostgreSQL server (<c>name=value</c>), e.g. <c>shared_preload_libraries=pg_stat_statements</c>
    /// for the bench, which reads what each statement costs.
    /// </summary>
    public IReadOnlyList<string> PostgresSettings { get; init; } = [];
}

/// <summary>
/// The whole local stack on HTTPS loopback: Azurite (one account per region), the S3 server, a mail server
/// (maildev), the functions, the key server and the player, each its own process, all presenting the local CA's certificate.
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

    public S3Server S3 { get; private set; } = null!;

    /// <summary>Where the functions send invitations and password-reset links; its web inbox shows them.</summary>
    public MailDev Mail { get; private set; } = null!;

    public Uri FunctionsUrl { get; private set; } = null!;

    public Uri KeyServerUrl { get; private set; } = null!;

    public Uri PlayerUrl { get; private set; } = null!;

    public IReadOnlyList<ChildProcess> Hosts => [.. _parts.OfType<ChildProcess>()];

    /// <summary>The stack's PostgreSQL server, when <see cref="LocalCloudOptions.Database"/> is <c>postgresql</c>.</summary>
    public PostgresServer? Postgres { get; private set; }

    /// <summary>The token issuer: the functions API's public base URL.</summary>
    public string Issuer => new Uri(FunctionsUrl, "/api").ToString();

    public static async Task<LocalCloud> StartAsync(LocalCloudOptions options, CancellationToken cancellationToken)
    {
        CreateStateFolder(options.StateFolder);
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

    /// <summary>
    /// The state folder, the owner's only (0700), also when an earlier version left it readable by others: it holds the
    /// directory, the key store, private keys and the demo administrator's secrets.
    /// </summary>
    public static void CreateStateFolder(string folder)
    {
        var state = PrivateFile.CreateFolder(folder);
        if (!OperatingSystem.IsWindows())
        {
            state.UnixFileMode = PrivateFile.FolderMode;
        }
    }

    string Logs => Path.Combine(Options.StateFolder, "logs");

    /// <summary>The player's origin: the one origin storage lets read objects and the APIs answer (CORS).</summary>
    public string PlayerOrigin => PlayerUrl.GetLeftPart(UriPartial.Authority);

    Task<Azurite> StartAzuriteAsync(int port, CancellationToken cancellationToken) => Azurite.StartAsync(
        Certificates, Options.PersistentStorage ? Path.Combine(Options.StateFolder, "azurite") : null,
        PlayerOrigin, Path.Combine(Logs, "azurite.log"), cancellationToken, port);

    /// <summary>Stops the storage emulator, as a network outage or a storage incident would (tests of the stream cache).</summary>
    public async Task StopStorageAsync()
    {
        _parts.Remove(Azurite);
        await Azurite.DisposeAsync();
    }

    /// <summary>Starts the storage emulator again on the same port with the same accounts and (if persistent) the same blobs.</summary>
    public async Task StartStorageAsync(CancellationToken cancellationToken)
    {
        Azurite = await StartAzuriteAsync(Azurite.Port, cancellationToken);
        _parts.Insert(0, Azurite);
    }

    async Task StartPartsAsync(CancellationToken cancellationToken)
    {
        var logs = Logs;
        Contracts.FrontEnd.EnsureKeyFile(FrontEndKeyFile);
        FunctionsUrl = Loopback(Options.FunctionsPort);
        KeyServerUrl = Loopback(Options.KeyServerPort);
        PlayerUrl = Loopback(Options.PlayerPort);

        Azurite = await StartAzuriteAsync(Options.AzuritePort, cancellationToken);
        _parts.Add(Azurite);
        // maildev before the S3 server: its ports may be fixed in advance, while the S3 server's is picked now, which
        // could otherwise be one of them, released by the caller but not yet bound.
        Mail = await MailDev.StartAsync(Certificates, Path.Combine(Options.StateFolder, "mail"), Path.Combine(logs, "maildev.log"), cancellationToken,
            Options.SmtpPort, Options.MailWebPort);
        _parts.Add(Mail);
        if (Options.Database == "postgresql")
        {
            Postgres = await PostgresServer.StartAsync(Path.Combine(Options.StateFolder, "postgres"), Path.Combine(logs, "postgres.log"),
                durable: Options.PersistentStorage, cancellationToken, Options.PostgresSettings);
            _parts.Add(Postgres);
            foreach (var database in Contracts.Regions.All.Select(IndexDatabaseName).Prepend("directory").Append("player"))
            {
                await Postgres.CreateDatabaseAsync(database, cancellationToken);
            }
        }

        S3 = await S3Server.StartAsync(Certificates, Path.Combine(Options.StateFolder, "s3"), Options.S3Regions, PlayerOrigin, Path.Combine(logs, "s3.log"), cancellationToken, Options.S3Port);
        _parts.Add(S3);

        _parts.Add(await StartHostAsync("functions", "functions/CloudStore.Functions.Local", "CloudStore.Functions.Local", FunctionsUrl, "/api/health", FunctionsSettings(), logs, cancellationToken));
        _parts.Add(await StartHostAsync("keyserver", "keyserver", "CloudStore.KeyServer", KeyServerUrl, "/health", new Dictionary<string, string>
        {
            ["KeyServer__TokenIssuer"] = Issuer,
            ["KeyServer__KeyStoreRoot"] = KeyStoreRoot,
            ["KeyServer__AuditDatabase"] = Path.Combine(Options.StateFolder, "keyserver", "audit.db"),
            ["KeyServer__PlayerOrigin"] = PlayerOrigin,
        }, logs, cancellationToken));
        _parts.Add(await StartHostAsync("player", "player", "CloudStore.Player", PlayerUrl, "/health", PlayerSettings(FunctionsUrl), logs, cancellationToken));
    }

    /// <summary>
    /// Starts a second functions host and a second player on the same databases and files, as a scaled-out deployment
    /// runs several instances of each: the second player talks to the second functions host. Both stay up until the
    /// stack is disposed.
    /// </summary>
    /// <returns>The second instances' URLs.</returns>
    public async Task<(Uri Functions, Uri Player)> StartSecondInstancesAsync(CancellationToken cancellationToken)
    {
        var functions = Loopback(0);
        _parts.Add(await StartHostAsync("functions-2", "functions/CloudStore.Functions.Local", "CloudStore.Functions.Local", functions, "/api/health", FunctionsSettings(), Logs, cancellationToken));
        var player = Loopback(0);
        _parts.Add(await StartHostAsync("player-2", "player", "CloudStore.Player", player, "/health", PlayerSettings(functions), Logs, cancellationToken));
        return (functions, player);
    }

    /// <summary>The player's database: SQLite in the state folder, or a database of its own on the stack's PostgreSQL.</summary>
    public (string Provider, string ConnectionString) PlayerDatabase => Postgres is { } postgres
        ? ("postgresql", postgres.ConnectionString("player"))
        : ("sqlite", $"Data Source={Path.Combine(Options.StateFolder, "player", "player.db")}");

    Dictionary<string, string> PlayerSettings(Uri functionsUrl)
    {
        var settings = new Dictionary<string, string>
        {
            ["Player__UseStaticWebAssets"] = "true",
            ["Player__Database__Provider"] = PlayerDatabase.Provider,
            ["Player__Database__ConnectionString"] = PlayerDatabase.ConnectionString,
            ["Player__Database__ApplyMigrationsOnStart"] = "true",
            ["Player__FrontEndKeyFile"] = FrontEndKeyFile,
            ["Player__FunctionsUrl"] = functionsUrl.ToString(),
            ["Player__KeyServerUrl"] = KeyServerUrl.ToString(),
        };
        foreach (var (key, value) in Options.ExtraPlayerSettings)
        {
            settings[key] = value;
        }

        return settings;
    }

    /// <summary>The key server's embedded key store: a folder per region, each with its own master key.</summary>
    public string KeyStoreRoot => Path.Combine(Options.StateFolder, "keyserver", "keys");

    /// <summary>The key the player presents when it tells the functions which browser a sign-in comes from (0600).</summary>
    public string FrontEndKeyFile => Path.Combine(Options.StateFolder, "player", "front-end.key");

    /// <summary>A region's index database file (SQLite).</summary>
    public string IndexDatabase(string region) => Path.Combine(Options.StateFolder, "functions", "index", region + ".db");

    static string IndexDatabaseName(string region) => "index_" + region.Replace('-', '_');

    /// <summary>The directory's database: provider and connection string.</summary>
    public (string Provider, string ConnectionString) DirectoryDatabase => Postgres is { } postgres
        ? ("postgresql", postgres.ConnectionString("directory"))
        : ("sqlite", $"Data Source={Path.Combine(Options.StateFolder, "functions", "directory.db")}");

    /// <summary>A region's index database: provider and connection string.</summary>
    public (string Provider, string ConnectionString) IndexConnection(string region) => Postgres is { } postgres
        ? ("postgresql", postgres.ConnectionString(IndexDatabaseName(region)))
        : ("sqlite", $"Data Source={IndexDatabase(region)}");

    /// <summary>Configuration of the functions host, as environment variables; also used to run its commands.</summary>
    public Dictionary<string, string> FunctionsSettings()
    {
        var folder = Path.Combine(Options.StateFolder, "functions");
        var settings = new Dictionary<string, string>
        {
            ["Auth__Issuer"] = Issuer,
            ["Auth__SigningKeyFile"] = Path.Combine(folder, "signing-key.pem"),
            ["Auth__FrontEndKeyFile"] = FrontEndKeyFile,
            ["Directory__Provider"] = DirectoryDatabase.Provider,
            ["Directory__ConnectionString"] = DirectoryDatabase.ConnectionString,
            ["KeyServer__Url"] = KeyServerUrl.ToString(),
            ["Player__Origin"] = PlayerOrigin,
        };
        foreach (var (key, value) in Mail.FunctionsSettings)
        {
            settings[key] = value;
        }

        // The region catalogue: every region its own storage (an Azurite account, or a bucket on the
        // S3 server) and its own index database.
        foreach (var account in Azurite.Accounts)
        {
            var region = account.Region;
            if (Options.S3Regions.Contains(region))
            {
                settings[$"Regions__{region}__Storage__Kind"] = "s3";
                settings[$"Regions__{region}__Storage__ServiceUrl"] = S3.Url.ToString();
                settings[$"Regions__{region}__Storage__Bucket"] = S3Server.BucketName(region);
                settings[$"Regions__{region}__Storage__AccessKeyId"] = S3Server.AccessKeyId;
                settings[$"Regions__{region}__Storage__SecretAccessKey"] = S3Server.SecretAccessKey;
                settings[$"Regions__{region}__Storage__GrantMode"] = "presigned";
            }
            else if (Options.UserDelegationRegions.Contains(region))
            {
                // Entra ID cannot run here; Azurite's --oauth basic takes the tokens of FakeEntraIdCredential.
                settings[$"Regions__{region}__Storage__Kind"] = "azure-blob";
                settings[$"Regions__{region}__Storage__BlobEndpoint"] = account.BlobEndpoint.ToString();
                settings[$"Regions__{region}__Storage__Credential"] = "fake-entra-local";
            }
            else
            {
                settings[$"Regions__{region}__Storage__Kind"] = "azure-blob";
                settings[$"Regions__{region}__Storage__ConnectionString"] = account.ConnectionString;
            }

            (settings[$"Regions__{region}__Index__Provider"], settings[$"Regions__{region}__Index__ConnectionString"]) = IndexConnection(region);
        }

        foreach (var (key, value) in Options.ExtraFunctionsSettings)
        {
            settings[key] = value;
        }

        return settings;
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

    /// <param name="name">The host's name in logs (<c>logs/{name}.log</c>).</param>
    /// <param name="folder">The host's project folder in the repository.</param>
    async Task<ChildProcess> StartHostAsync(
        string name, string folder, string assembly, Uri url, string readinessPath, Dictionary<string, string> settings, string logs, CancellationToken cancellationToken)
    {
        var dll = RepositoryLayout.HostAssembly(folder, assembly);
        if (!File.Exists(dll))
        {
            throw new InvalidOperationException($"{dll} is missing: build the solution first (./cloudstore demo does).");
        }

        var environment = CommonSettings(url);
        foreach (var (key, value) in settings)
        {
            environment[key] = value;
        }

        // The content root is the build output, as in a deployment, so each host reads its own appsettings.json.
        return await ChildProcess.StartAsync(name, "dotnet", [dll, "--contentRoot", Path.GetDirectoryName(dll)!], environment, Path.Combine(logs, name + ".log"),
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
