using CloudStore.Contracts;
using CloudStore.LocalStack;
using Xunit;

namespace CloudStore.Tests.Infrastructure;

/// <summary>
/// The real stack for one test class: Azurite and every host as its own process on HTTPS loopback,
/// state in a temporary folder, on the database the run tests (<see cref="TestDatabase"/>). If something cannot start, the tests fail with its log.
/// </summary>
public sealed class LocalCloudFixture : IAsyncLifetime
{
    readonly string _folder = PassableTempFolder();

    public LocalCloud Cloud { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        // Blobs on disk, as in the demo, so that storage can be stopped and started again without losing them.
        Cloud = await LocalCloud.StartAsync(new LocalCloudOptions(_folder, PersistentStorage: true) { Database = TestDatabase.Provider }, timeout.Token);
    }

    /// <summary>
    /// A temporary folder others may pass through (0755), so that a PostgreSQL cluster inside it is reachable by the
    /// unprivileged user its server runs as; the files in it are the stack's own, secrets 0600 as everywhere.
    /// </summary>
    internal static string PassableTempFolder()
    {
        var folder = Directory.CreateTempSubdirectory("cloudstore-stack-").FullName;
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
        }

        return folder;
    }

    /// <summary>A client for one of the stack's hosts that trusts only the stack's CA.</summary>
    public HttpClient Client(Uri baseAddress) =>
        new(TrustedHttp.CreateHandler(Cloud.Certificates.CaCertificate)) { BaseAddress = baseAddress };

    public async Task DisposeAsync()
    {
        await Cloud.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}
