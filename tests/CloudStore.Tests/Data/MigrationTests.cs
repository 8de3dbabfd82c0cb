using System.Net.Http.Json;
using CloudStore.ControlPlane.Data;
using CloudStore.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using Xunit;

namespace CloudStore.Tests.Data;

/// <summary>
/// The schemas' migrations on both databases: each history matches the model it is for, several instances migrating
/// at once apply each migration once, and a host on an older schema refuses to start until `migrate` has run.
/// </summary>
public sealed class MigrationTests
{
    public static TheoryData<string> Providers => [DatabaseProvider.Sqlite, DatabaseProvider.PostgreSql];

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Model_HasNoChangeMissingFromTheMigrations(string provider)
    {
        // Adding a migration never connects, nor does comparing the model with the latest one.
        var connectionString = provider == DatabaseProvider.Sqlite ? "Data Source=unused.db" : "Host=unused;Database=unused";
        await using var directory = DatabaseMigrations.OpenDirectory(provider, connectionString);
        await using var index = DatabaseMigrations.OpenIndex(provider, connectionString);

        Assert.False(directory.Database.HasPendingModelChanges(), $"The directory model changed without a migration for {provider}: run dotnet ef migrations add (docs/OPERATIONS.md).");
        Assert.False(index.Database.HasPendingModelChanges(), $"The index model changed without a migration for {provider}.");
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Migrate_FourInstancesAtOnceOnAnEmptyDatabase_EachMigrationAppliedOnce_SchemaCurrent(string provider)
    {
        var (directory, index, cleanUp) = await NewDatabasesAsync(provider);
        try
        {
            var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => DatabaseMigrations.MigrateDirectoryAsync(provider, directory, CancellationToken.None))));
            var indexRuns = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => DatabaseMigrations.MigrateIndexAsync(provider, index, CancellationToken.None))));

            Assert.Empty(await DatabaseMigrations.PendingDirectoryAsync(provider, directory, CancellationToken.None));
            Assert.Empty(await DatabaseMigrations.PendingIndexAsync(provider, index, CancellationToken.None));
            await using var db = DatabaseMigrations.OpenDirectory(provider, directory);
            var applied = (await db.Database.GetAppliedMigrationsAsync()).ToList();
            Assert.Equal(applied.Count, applied.Distinct().Count());
            Assert.Equal(db.Database.GetMigrations(), applied);
            Assert.Equal(0, await db.Organizations.CountAsync());
            Assert.NotEmpty(runs.SelectMany(r => r));
            Assert.NotEmpty(indexRuns.SelectMany(r => r));
        }
        finally
        {
            cleanUp();
        }
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Host_OnAnOlderSchema_RefusesToStart_UntilTheMigrateCommandHasRun(string provider)
    {
        var (directory, _, cleanUp) = await NewDatabasesAsync(provider);
        try
        {
            using (var factory = new FunctionsFactory().With("Directory:Provider", provider).With("Directory:ConnectionString", directory)
                .With("Directory:ApplyMigrationsOnStart", "false"))
            {
                var refused = Assert.Throws<InvalidOperationException>(() => factory.CreateClient());
                Assert.Contains("run the `migrate` operations command", refused.Message, StringComparison.Ordinal);
            }

            Assert.NotEmpty(await DatabaseMigrations.MigrateDirectoryAsync(provider, directory, CancellationToken.None));
            using (var factory = new FunctionsFactory().With("Directory:Provider", provider).With("Directory:ConnectionString", directory)
                .With("Directory:ApplyMigrationsOnStart", "false"))
            {
                using var client = factory.CreateClient();
                using var signIn = await client.PostAsJsonAsync("/api/auth/sign-in", new CloudStore.Contracts.SignInRequest("nobody@example.test", "not a password at all"));
                Assert.Equal(System.Net.HttpStatusCode.Unauthorized, signIn.StatusCode);
            }
        }
        finally
        {
            cleanUp();
        }
    }

    [Fact]
    public async Task AuditLog_OnPostgreSql_RefusesTruncate()
    {
        var (directory, _, cleanUp) = await NewDatabasesAsync(DatabaseProvider.PostgreSql);
        try
        {
            await DatabaseMigrations.MigrateDirectoryAsync(DatabaseProvider.PostgreSql, directory, CancellationToken.None);
            await using var connection = new NpgsqlConnection(directory);
            await connection.OpenAsync();
            await using var truncate = new NpgsqlCommand("TRUNCATE \"AuditEntries\"", connection);

            var refused = await Assert.ThrowsAsync<PostgresException>(() => truncate.ExecuteNonQueryAsync());
            Assert.Contains("append-only", refused.MessageText, StringComparison.Ordinal);
        }
        finally
        {
            cleanUp();
        }
    }

    /// <summary>An empty directory and index database (files in a temporary folder, or databases on the run's server).</summary>
    static async Task<(string Directory, string Index, Action CleanUp)> NewDatabasesAsync(string provider)
    {
        if (provider == DatabaseProvider.PostgreSql)
        {
            return (await TestDatabase.NewPostgresDatabaseAsync("directory"), await TestDatabase.NewPostgresDatabaseAsync("index"), () => NpgsqlConnection.ClearAllPools());
        }

        var folder = System.IO.Directory.CreateTempSubdirectory("cloudstore-migrations-").FullName;
        return ($"Data Source={Path.Combine(folder, "directory.db")}", $"Data Source={Path.Combine(folder, "index.db")}", () =>
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            System.IO.Directory.Delete(folder, recursive: true);
        });
    }
}
