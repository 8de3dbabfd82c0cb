using System.Security.Cryptography;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using CloudStore.Contracts;

namespace CloudStore.LocalStack;

/// <summary>One storage account: name, key and HTTPS blob endpoint.</summary>
public sealed record StorageAccount(string Region, string Name, string Key, Uri BlobEndpoint)
{
    public string ConnectionString => $"DefaultEndpointsProtocol=https;AccountName={Name};AccountKey={Key};BlobEndpoint={BlobEndpoint};";
}

/// <summary>
/// Azurite's blob service over HTTPS, with one storage account per region, so that each region's
/// data is separate as it is in the cloud. <c>--oauth basic</c> enables user-delegation SAS.
/// </summary>
public sealed class Azurite : IAsyncDisposable
{
    readonly ChildProcess _process;

    Azurite(ChildProcess process, int port, IReadOnlyList<StorageAccount> accounts)
    {
        _process = process;
        Port = port;
        Accounts = accounts;
    }

    public int Port { get; }

    /// <summary>The emulator's process (node), for benchmarks that read its CPU time.</summary>
    public int ProcessId => _process.Id;

    public IReadOnlyList<StorageAccount> Accounts { get; }

    public StorageAccount Account(string region) => Accounts.Single(a => a.Region == region);

    /// <summary>The account name used for a region: letters and digits only, as storage account names must be.</summary>
    public static string AccountName(string region) => "cs" + region.Replace("-", "", StringComparison.Ordinal);

    /// <param name="dataFolder">Where blobs and account keys persist; null for in-memory storage that ends with the process.</param>
    /// <param name="playerOrigin">The one origin whose pages may read blobs (CORS): the web player.</param>
    public static async Task<Azurite> StartAsync(
        CertificateFiles certificates, string? dataFolder, string playerOrigin, string logFile, CancellationToken cancellationToken, int port = 0)
    {
        var script = Path.Combine(RepositoryLayout.NodeModules, "azurite", "dist", "src", "blob", "main.js");
        if (!File.Exists(script))
        {
            throw new InvalidOperationException(
                $"Azurite is not installed ({script} is missing). Run `./cloudstore test` or `./cloudstore demo`, which run `npm ci` in infra/local.");
        }

        port = port == 0 ? ChildProcess.FreePort() : port;
        var keys = LoadOrCreateKeys(dataFolder);
        var accounts = Regions.All
            .Select(region => new StorageAccount(region, AccountName(region), keys[region], new Uri($"https://127.0.0.1:{port}/{AccountName(region)}")))
            .ToList();
        var arguments = new List<string>
        {
            script,
            "--blobHost", "127.0.0.1",
            "--blobPort", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--cert", certificates.ServerCertificate,
            "--key", certificates.ServerKey,
            "--oauth", "basic",
            "--disableTelemetry",
            "--silent", // Its access log would record every SAS, signature included.
            "--skipApiVersionCheck",
        };
        if (dataFolder is null)
        {
            arguments.Add("--inMemoryPersistence");
        }
        else
        {
            arguments.AddRange(["--location", Path.Combine(dataFolder, "blobs")]);
        }

        var environment = new Dictionary<string, string>
        {
            ["AZURITE_ACCOUNTS"] = string.Join(';', accounts.Select(a => $"{a.Name}:{a.Key}")),
        };
        var process = await ChildProcess.StartAsync(
            "azurite", "node", arguments, environment, logFile,
            new Uri($"https://127.0.0.1:{port}/{accounts[0].Name}?comp=list"), certificates.CaCertificate, cancellationToken);
        var azurite = new Azurite(process, port, accounts);
        try
        {
            await azurite.AllowPlayerAsync(certificates, playerOrigin, cancellationToken);
        }
        catch
        {
            await azurite.DisposeAsync();
            throw;
        }

        return azurite;
    }

    /// <summary>
    /// Lets the web player's origin, and no other, read blobs from a page (CORS: GET and HEAD), as each
    /// regional storage account is configured in the cloud. Set at every start: in-memory storage forgets it.
    /// </summary>
    async Task AllowPlayerAsync(CertificateFiles certificates, string playerOrigin, CancellationToken cancellationToken)
    {
        using var transport = new HttpClient(TrustedHttp.CreateHandler(certificates.CaCertificate));
        var options = new BlobClientOptions { Transport = new Azure.Core.Pipeline.HttpClientTransport(transport) };
        var rule = new BlobCorsRule
        {
            AllowedOrigins = playerOrigin,
            AllowedMethods = "GET,HEAD",
            AllowedHeaders = "range",
            ExposedHeaders = "content-length,content-range",
            MaxAgeInSeconds = 3600,
        };
        foreach (var account in Accounts)
        {
            // Read-modify-write: Azurite, like the service, wants the whole properties document back.
            var service = new BlobServiceClient(account.ConnectionString, options);
            BlobServiceProperties properties = await service.GetPropertiesAsync(cancellationToken);
            properties.Cors = [rule];
            await service.SetPropertiesAsync(properties, cancellationToken);
        }
    }

    /// <summary>Account keys are random per installation (not Azurite's well-known key) and kept with the data.</summary>
    static Dictionary<string, string> LoadOrCreateKeys(string? dataFolder)
    {
        var file = dataFolder is null ? null : Path.Combine(dataFolder, "account-keys.json");
        if (file is not null && File.Exists(file))
        {
            var stored = JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(file));
            if (stored is not null && Regions.All.All(stored.ContainsKey))
            {
                return stored;
            }
        }

        var keys = Regions.All.ToDictionary(region => region, _ => Convert.ToBase64String(RandomNumberGenerator.GetBytes(64)));
        if (file is not null)
        {
            PrivateFile.Write(file, JsonSerializer.Serialize(keys));
        }

        return keys;
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
