using CloudStore.ControlPlane.Data;
using CloudStore.LocalStack;

namespace CloudStore.Tests.Infrastructure;

/// <summary>
/// The database the tests run on: SQLite files (the default), or with <c>CLOUDSTORE_TEST_DATABASE=postgresql</c>
/// (`./cloudstore test` runs the data-layer, stack and attacker-side tests a second time so) a database of their own
/// on one PostgreSQL server that this test run starts from Debian's package and stops at its end.
/// </summary>
public static class TestDatabase
{
    static readonly Lazy<Task<PostgresServer>> Server = new(StartAsync);

    public static string Provider { get; } =
        Environment.GetEnvironmentVariable("CLOUDSTORE_TEST_DATABASE") is DatabaseProvider.PostgreSql ? DatabaseProvider.PostgreSql : DatabaseProvider.Sqlite;

    public static bool IsPostgres => Provider == DatabaseProvider.PostgreSql;

    /// <summary>The run's PostgreSQL server (started on first use, whatever <see cref="Provider"/> says).</summary>
    public static Task<PostgresServer> PostgresAsync() => Server.Value;

    /// <summary>A new, empty PostgreSQL database on the run's server; its connection string.</summary>
    public static async Task<string> NewPostgresDatabaseAsync(string purpose) =>
        await (await Server.Value).CreateDatabaseAsync($"{purpose}_{Guid.NewGuid():N}", CancellationToken.None);

    static async Task<PostgresServer> StartAsync()
    {
        var runs = Path.Combine(RepositoryLayout.LocalState, "test-postgres");
        RemoveStaleClusters(runs);
        var folder = Path.Combine(runs, Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var server = await PostgresServer.StartAsync(folder, Path.Combine(runs, $"postgres-{Environment.ProcessId}.log"), durable: false, timeout.Token);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            server.DisposeAsync().AsTask().GetAwaiter().GetResult();
            foreach (var path in new[] { server.Folder, folder }.Distinct())
            {
                Directory.Delete(path, recursive: true);
            }
        };
        return server;
    }

    /// <summary>
    /// Clusters of earlier runs whose test process is gone (its exit handler is best effort: the test host may end
    /// before it finishes), with their stand-ins under /var/tmp and their logs.
    /// </summary>
    static void RemoveStaleClusters(string runs)
    {
        if (!Directory.Exists(runs))
        {
            return;
        }

        foreach (var cluster in Directory.GetDirectories(runs))
        {
            if (!int.TryParse(Path.GetFileName(cluster), out var processId) || IsRunning(processId))
            {
                continue;
            }

            var note = Path.Combine(cluster, "WHERE.txt");
            if (File.Exists(note) && File.ReadAllText(note).Split(' ').FirstOrDefault(w => w.StartsWith("/var/tmp/cloudstore-postgres-", StringComparison.Ordinal)) is { } standIn
                && Directory.Exists(standIn.TrimEnd(':', '.')))
            {
                Directory.Delete(standIn.TrimEnd(':', '.'), recursive: true);
            }

            Directory.Delete(cluster, recursive: true);
            File.Delete(Path.Combine(runs, $"postgres-{processId}.log"));
        }
    }

    static bool IsRunning(int processId)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
