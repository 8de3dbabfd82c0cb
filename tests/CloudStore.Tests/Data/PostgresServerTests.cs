using CloudStore.LocalStack;
using Npgsql;
using Xunit;

namespace CloudStore.Tests.Data;

/// <summary>The local PostgreSQL server the stack and the tests use: Debian's package, a cluster of its own, loopback TCP only.</summary>
public sealed class PostgresServerTests
{
    [Fact]
    public async Task Server_StartsInAFolderOfItsOwn_AcceptsOnlyItsPassword_AndKeepsDataAcrossARestart()
    {
        var folder = Directory.CreateTempSubdirectory("cloudstore-pg-").FullName;
        File.SetUnixFileMode(folder, (UnixFileMode)0b111_101_101);
        try
        {
            string connectionString;
            await using (var server = await PostgresServer.StartAsync(folder, Path.Combine(folder, "postgres.log"), durable: true, CancellationToken.None))
            {
                connectionString = await server.CreateDatabaseAsync("kept", CancellationToken.None);
                await ExecuteAsync(connectionString, "CREATE TABLE t (v int); INSERT INTO t VALUES (42);");
                var wrong = new NpgsqlConnectionStringBuilder(connectionString) { Password = "not-the-password" }.ConnectionString;
                var refused = await Assert.ThrowsAsync<PostgresException>(() => ExecuteAsync(wrong, "SELECT 1"));
                Assert.Equal(PostgresErrorCodes.InvalidPassword, refused.SqlState);
            }

            await using (var again = await PostgresServer.StartAsync(folder, Path.Combine(folder, "postgres.log"), durable: true, CancellationToken.None))
            {
                await using var connection = new NpgsqlConnection(await again.CreateDatabaseAsync("kept", CancellationToken.None));
                await connection.OpenAsync();
                await using var read = new NpgsqlCommand("SELECT v FROM t", connection);
                Assert.Equal(42, await read.ExecuteScalarAsync());
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task Server_AskedForAFolderBehindAPrivateOne_StartsAnyway_AndSaysWhereItIs()
    {
        // A checkout inside a private folder (mktemp -d is 0700): the unprivileged server user cannot pass through it when
        // the tests run as root; run as another user, the folder itself is used.
        var parent = Directory.CreateTempSubdirectory("cloudstore-private-").FullName;
        var folder = Path.Combine(parent, "postgres");
        try
        {
            await using var server = await PostgresServer.StartAsync(folder, Path.Combine(parent, "postgres.log"), durable: false, CancellationToken.None);
            await ExecuteAsync(await server.CreateDatabaseAsync("reached", CancellationToken.None), "SELECT 1");

            if (Environment.UserName == "root")
            {
                Assert.StartsWith("/var/tmp/cloudstore-postgres-", server.Folder, StringComparison.Ordinal);
                Assert.Contains(server.Folder, await File.ReadAllTextAsync(Path.Combine(folder, "WHERE.txt")), StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal(folder, server.Folder);
            }

            await server.DisposeAsync();
            Directory.Delete(server.Folder, recursive: true);
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
