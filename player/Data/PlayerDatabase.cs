using CloudStore.Contracts;
using CloudStore.Hosting;
using CloudStore.Player.Data.Migrations;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace CloudStore.Player.Data;

/// <summary>The <c>Player:Database</c> section.</summary>
public sealed class PlayerDatabaseOptions
{
    public const string Section = "Player:Database";

    /// <summary><c>sqlite</c> (the embedded default: one instance) or <c>postgresql</c> (every instance shares it).</summary>
    public string Provider { get; set; } = PlayerDatabase.Sqlite;

    public string ConnectionString { get; set; } = "Data Source=.local/player/player.db";

    /// <summary>How to sign in to PostgreSQL: <c>password</c> (what the connection string carries) or <c>managed-identity</c> (an Entra ID token).</summary>
    public string Credential { get; set; } = DatabaseCredential.Password;

    /// <summary>Apply pending migrations at start (the local stack); otherwise run <c>migrate</c>, and an older schema refuses to start.</summary>
    public bool ApplyMigrationsOnStart { get; set; }
}

/// <summary>Opens and migrates the player's database. Only this class knows which database it is.</summary>
public static class PlayerDatabase
{
    public const string Sqlite = "sqlite";
    public const string PostgreSql = "postgresql";

    public static IServiceCollection AddPlayerDatabase(this IServiceCollection services)
    {
        services.AddOptions<PlayerDatabaseOptions>().BindConfiguration(PlayerDatabaseOptions.Section)
            .Validate(o => o.Provider is Sqlite or PostgreSql, "Player:Database:Provider must be 'sqlite' or 'postgresql'.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.ConnectionString), "Player:Database:ConnectionString is required.")
            .Validate(o => o.Credential == DatabaseCredential.Password || (o.Credential == DatabaseCredential.ManagedIdentity && o.Provider == PostgreSql),
                $"Player:Database:Credential must be {DatabaseCredential.Choices} ('managed-identity' with postgresql only).")
            .ValidateOnStart();
        services.AddEntraDataSources();
        return services.AddDbContext<PlayerDbContext>((provider, db) =>
        {
            var options = provider.GetRequiredService<Microsoft.Extensions.Options.IOptions<PlayerDatabaseOptions>>().Value;
            db.Use(options.Provider, options.ConnectionString, SignedIn(provider, options));
        });
    }

    /// <summary>The data source that signs in with the player's Entra ID identity (<c>Credential</c> <c>managed-identity</c>); null otherwise.</summary>
    public static NpgsqlDataSource? SignedIn(IServiceProvider services, PlayerDatabaseOptions options) =>
        options.Provider == PostgreSql && options.Credential == DatabaseCredential.ManagedIdentity
            ? services.GetRequiredService<EntraDataSources>().For(PostgreSqlConnections.WithDefaults(options.ConnectionString))
            : null;

    static DbContextOptionsBuilder Use(this DbContextOptionsBuilder builder, string provider, string connectionString, NpgsqlDataSource? signedIn) => provider switch
    {
        Sqlite => builder.UseSqlite(connectionString),
        PostgreSql when signedIn is not null => builder.UseNpgsql(signedIn),
        PostgreSql => builder.UseNpgsql(PostgreSqlConnections.WithDefaults(connectionString)),
        _ => throw new InvalidOperationException($"Unknown database provider '{provider}'."),
    };

    /// <summary>The migration context for the database (one migration history per database, as in the functions).</summary>
    public static PlayerDbContext Open(PlayerDatabaseOptions options, NpgsqlDataSource? signedIn = null) => options.Provider switch
    {
        Sqlite => new SqlitePlayerDbContext((DbContextOptions<SqlitePlayerDbContext>)new DbContextOptionsBuilder<SqlitePlayerDbContext>().Use(options.Provider, options.ConnectionString, null).Options),
        _ => new PostgresPlayerDbContext((DbContextOptions<PostgresPlayerDbContext>)new DbContextOptionsBuilder<PostgresPlayerDbContext>().Use(options.Provider, options.ConnectionString, signedIn).Options),
    };

    /// <summary>
    /// Applies pending migrations; returns those it found pending. Instances starting together take turns (EF's lock on
    /// SQLite, an advisory lock on PostgreSQL), so each migration is applied once; on SQLite an instance that looked
    /// while another was migrating may report migrations the other applied.
    /// </summary>
    public static async Task<IReadOnlyList<string>> MigrateAsync(PlayerDatabaseOptions options, CancellationToken cancellationToken, NpgsqlDataSource? signedIn = null)
    {
        await using var db = Open(options, signedIn);
        if (options.Provider == Sqlite)
        {
            PrepareSqliteFolder(options.ConnectionString);
            await db.Database.OpenConnectionAsync(cancellationToken);
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            await db.Database.MigrateAsync(cancellationToken);
            return pending;
        }

        const long MigrationLock = 0x436C6F7564506C61; // "CloudPla"
        await db.Database.OpenConnectionAsync(cancellationToken);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_lock({MigrationLock})", cancellationToken);
        try
        {
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            await db.Database.MigrateAsync(cancellationToken);
            return pending;
        }
        finally
        {
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_unlock({MigrationLock})", CancellationToken.None);
        }
    }

    /// <summary>Migrates at start where configured, else refuses to start on a schema older than this build's.</summary>
    public static async Task PrepareAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var options = services.GetRequiredService<Microsoft.Extensions.Options.IOptions<PlayerDatabaseOptions>>().Value;
        var signedIn = SignedIn(services, options);
        if (options.ApplyMigrationsOnStart)
        {
            await MigrateAsync(options, cancellationToken, signedIn);
            return;
        }

        if (options.Provider == Sqlite)
        {
            PrepareSqliteFolder(options.ConnectionString);
        }

        await using var db = Open(options, signedIn);
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        if (pending.Count > 0)
        {
            throw new InvalidOperationException(
                $"The player's database lacks {pending.Count} migration(s) ({string.Join(", ", pending)}): run `CloudStore.Player migrate` first.");
        }
    }

    /// <summary>The SQLite file (0600) and its folder (0700), this user's only: the file holds sealed sessions and the keys that seal them.</summary>
    static void PrepareSqliteFolder(string connectionString)
    {
        var dataSource = new SqliteConnectionStringBuilder(connectionString).DataSource;
        if (Path.GetDirectoryName(Path.GetFullPath(dataSource)) is not { Length: > 0 } folder)
        {
            return;
        }

        var created = Directory.CreateDirectory(folder);
        if (!OperatingSystem.IsWindows())
        {
            created.UnixFileMode = PrivateFile.FolderMode;
        }

        PrivateFile.CreateEmpty(dataSource);
    }
}
