using CloudStore.Contracts;
using CloudStore.ControlPlane.Data.Migrations;
using CloudStore.ControlPlane.Recordings;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace CloudStore.ControlPlane.Data;

/// <summary>
/// Brings the directory and each regional index to the schema this build expects, with EF Core migrations (one
/// history per database: see <see cref="SqliteDirectoryDbContext"/>). Several instances starting at once apply each
/// migration once: on SQLite EF's own lock serialises them; on PostgreSQL EF's lock did not hold past the first
/// migration (four instances on an empty database each applied the second one), so each instance also holds a
/// session advisory lock (<see cref="AdvisoryLockKey"/>) from reading the history until its migrations are applied.
/// Applied by the <c>migrate</c> operations command, and at start where <see cref="DirectoryOptions.ApplyMigrationsOnStart"/>
/// is set (the local stack).
/// </summary>
public static class DatabaseMigrations
{
    /// <summary>PostgreSQL's advisory lock key for migrating (locks are per database, so the directory and an index do not wait for each other).</summary>
    public const long AdvisoryLockKey = 0x436C6F7564_5374; // "CloudSt"

    /// <summary>Migrates the directory; returns the migrations it applied.</summary>
    public static async Task<IReadOnlyList<string>> MigrateDirectoryAsync(string provider, string connectionString, CancellationToken cancellationToken, NpgsqlDataSource? signedIn = null)
    {
        await using var db = OpenDirectory(provider, connectionString, signedIn);
        return await MigrateAsync(db, provider, connectionString, "Organizations",
            legacy => DirectorySchema.UpgradeLegacySqliteAsync((DirectoryDbContext)legacy, cancellationToken), cancellationToken);
    }

    /// <summary>Migrates one region's index; returns the migrations it applied.</summary>
    public static async Task<IReadOnlyList<string>> MigrateIndexAsync(string provider, string connectionString, CancellationToken cancellationToken, NpgsqlDataSource? signedIn = null)
    {
        await using var db = OpenIndex(provider, connectionString, signedIn);
        return await MigrateAsync(db, provider, connectionString, "Segments", _ => Task.CompletedTask, cancellationToken);
    }

    /// <summary>The directory's migrations not applied yet (none when the schema is current).</summary>
    public static async Task<IReadOnlyList<string>> PendingDirectoryAsync(string provider, string connectionString, CancellationToken cancellationToken, NpgsqlDataSource? signedIn = null)
    {
        await using var db = OpenDirectory(provider, connectionString, signedIn);
        return [.. await db.Database.GetPendingMigrationsAsync(cancellationToken)];
    }

    /// <summary>One region's index migrations not applied yet.</summary>
    public static async Task<IReadOnlyList<string>> PendingIndexAsync(string provider, string connectionString, CancellationToken cancellationToken, NpgsqlDataSource? signedIn = null)
    {
        await using var db = OpenIndex(provider, connectionString, signedIn);
        return [.. await db.Database.GetPendingMigrationsAsync(cancellationToken)];
    }

    /// <summary>The directory's migration context for <paramref name="provider"/> (its model is the directory's own).</summary>
    public static DirectoryDbContext OpenDirectory(string provider, string connectionString, NpgsqlDataSource? signedIn = null) => provider switch
    {
        DatabaseProvider.Sqlite => new SqliteDirectoryDbContext(DatabaseProvider.Options<SqliteDirectoryDbContext>(provider, connectionString)),
        DatabaseProvider.PostgreSql => new PostgresDirectoryDbContext(DatabaseProvider.Options<PostgresDirectoryDbContext>(provider, connectionString, signedIn)),
        _ => throw new InvalidOperationException($"Unknown database provider '{provider}': {DatabaseProvider.Choices}."),
    };

    public static IndexDbContext OpenIndex(string provider, string connectionString, NpgsqlDataSource? signedIn = null) => provider switch
    {
        DatabaseProvider.Sqlite => new SqliteIndexDbContext(DatabaseProvider.Options<SqliteIndexDbContext>(provider, connectionString)),
        DatabaseProvider.PostgreSql => new PostgresIndexDbContext(DatabaseProvider.Options<PostgresIndexDbContext>(provider, connectionString, signedIn)),
        _ => throw new InvalidOperationException($"Unknown database provider '{provider}': {DatabaseProvider.Choices}."),
    };

    static async Task<IReadOnlyList<string>> MigrateAsync(
        DbContext db, string provider, string connectionString, string legacyTable, Func<DbContext, Task> upgradeLegacy, CancellationToken cancellationToken)
    {
        if (provider == DatabaseProvider.Sqlite)
        {
            await PrepareSqliteAsync(db, connectionString, cancellationToken);
            await AdoptLegacySqliteAsync(db, legacyTable, upgradeLegacy, cancellationToken);
        }

        if (provider == DatabaseProvider.PostgreSql)
        {
            return await MigrateUnderPostgresLockAsync(db, cancellationToken);
        }

        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        await db.Database.MigrateAsync(cancellationToken);
        return pending;
    }

    /// <summary>
    /// Under <see cref="AdvisoryLockKey"/>, a session lock on the context's own connection, which EF then migrates on:
    /// instances take turns, the later ones find nothing pending; it ends with the session if the instance dies.
    /// </summary>
    static async Task<IReadOnlyList<string>> MigrateUnderPostgresLockAsync(DbContext db, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({AdvisoryLockKey})", cancellationToken);
            try
            {
                var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
                await db.Database.MigrateAsync(cancellationToken);
                return pending;
            }
            finally
            {
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({AdvisoryLockKey})", CancellationToken.None);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// The database file (0600) and its folder (0700, where made here): the directory holds password hashes and
    /// sessions, so no other local user may read it. Then write-ahead logging: readers carry on while one request writes.
    /// </summary>
    static async Task PrepareSqliteAsync(DbContext db, string connectionString, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnectionStringBuilder(connectionString);
        if (connection.Mode != SqliteOpenMode.Memory && connection.DataSource is { Length: > 0 } dataSource && dataSource != ":memory:")
        {
            PrivateFile.CreateEmpty(dataSource);
        }

        await db.Database.OpenConnectionAsync(cancellationToken);
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
    }

    /// <summary>
    /// A SQLite database made before migrations (by <c>EnsureCreated</c> and the upgrade statements that followed it;
    /// the demo keeps its databases between runs): brought to the first migration's schema by those statements, then
    /// recorded as having applied it, so that migrations carry on from there.
    /// </summary>
    static async Task AdoptLegacySqliteAsync(DbContext db, string legacyTable, Func<DbContext, Task> upgradeLegacy, CancellationToken cancellationToken)
    {
        if (!await HasTableAsync(db, legacyTable, cancellationToken) || await HasTableAsync(db, "__EFMigrationsHistory", cancellationToken))
        {
            return;
        }

        var first = db.GetService<IMigrationsAssembly>().Migrations.Keys.Order(StringComparer.Ordinal).First();
        var history = db.GetService<IHistoryRepository>();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await HasTableAsync(db, "__EFMigrationsHistory", cancellationToken))
        {
            return; // Another instance adopted it first.
        }

        await upgradeLegacy(db);
        await db.Database.ExecuteSqlRawAsync(history.GetCreateScript(), cancellationToken);
        await db.Database.ExecuteSqlRawAsync(history.GetInsertScript(new HistoryRow(first, ProductInfo.GetVersion())), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    static async Task<bool> HasTableAsync(DbContext db, string table, CancellationToken cancellationToken) =>
        await db.Database.SqlQuery<int>($"SELECT COUNT(*) AS Value FROM sqlite_master WHERE type = 'table' AND name = {table}").SingleAsync(cancellationToken) > 0;
}
