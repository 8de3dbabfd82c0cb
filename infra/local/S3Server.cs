using System.Globalization;

namespace CloudStore.LocalStack;

/// <summary>
/// The local S3 server (s3rver, the fork that checks SigV4 signatures) over HTTPS, one bucket per
/// S3 region, started by <c>s3-server.mjs</c>, which also makes it refuse unsigned requests and honour
/// <c>If-None-Match: *</c> as S3 does. Its account is s3rver's fixed one.
/// </summary>
public sealed class S3Server : IAsyncDisposable
{
    public const string AccessKeyId = "S3RVER";
    public const string SecretAccessKey = "S3RVER";

    readonly ChildProcess _process;

    S3Server(ChildProcess process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    /// <summary>The server's process (node), for benchmarks that read its CPU time.</summary>
    public int ProcessId => _process.Id;

    public Uri Url => new(string.Create(CultureInfo.InvariantCulture, $"https://127.0.0.1:{Port}"));

    public static string BucketName(string region) => "cs-" + region;

    /// <param name="playerOrigin">The one origin whose pages may read objects (CORS): the web player.</param>
    public static async Task<S3Server> StartAsync(
        CertificateFiles certificates, string dataFolder, IEnumerable<string> regions, string playerOrigin, string logFile, CancellationToken cancellationToken, int port = 0)
    {
        var script = Path.Combine(RepositoryLayout.Root, "infra", "local", "s3-server.mjs");
        if (!Directory.Exists(Path.Combine(RepositoryLayout.NodeModules, "@20minutes", "s3rver")))
        {
            throw new InvalidOperationException("s3rver is not installed. Run `./cloudstore test` or `./cloudstore demo`, which run `npm ci` in infra/local.");
        }

        port = port == 0 ? ChildProcess.FreePort() : port;
        Directory.CreateDirectory(dataFolder);
        // s3rver makes ListObjectsV2 continuation tokens with DES, which Node's OpenSSL 3 keeps in its legacy provider:
        // without it every truncated listing (a camera's prefix deleted a page at a time) fails with 500.
        List<string> arguments = ["--openssl-legacy-provider", script, port.ToString(CultureInfo.InvariantCulture), dataFolder, certificates.ServerCertificate, certificates.ServerKey, playerOrigin, .. regions.Select(BucketName)];
        var process = await ChildProcess.StartAsync("s3", "node", arguments, new Dictionary<string, string>(), logFile,
            new Uri(string.Create(CultureInfo.InvariantCulture, $"https://127.0.0.1:{port}/")), certificates.CaCertificate, cancellationToken);
        return new S3Server(process, port);
    }

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
