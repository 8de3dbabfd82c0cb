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
        var folder = Path.Combine(RepositoryLayout.LocalState, "test-postgres", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var server = await PostgresServer.StartAsync(folder, Path.Combine(folder, "..", $"postgres-{Environment.ProcessId}.log"), durable: false, timeout.Token);
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
}
