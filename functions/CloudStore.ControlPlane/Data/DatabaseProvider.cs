using CloudStore.Hosting;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace CloudStore.ControlPlane.Data;

/// <summary>
/// The databases the control plane runs on: SQLite, embedded (the demo, most tests, a single instance), and
/// PostgreSQL (production: several instances share it). Only the data layer knows which one it has.
/// </summary>
public static class DatabaseProvider
{
    public const string Sqlite = "sqlite";
    public const string PostgreSql = "postgresql";

    public const string Choices = "'sqlite' or 'postgresql'";

    public static bool IsKnown(string? provider) => provider is Sqlite or PostgreSql;

    /// <summary>
    /// Points <paramref name="builder"/> at the database; SQLite waits up to 30 s for another writer's lock. On PostgreSQL,
    /// <paramref name="signedIn"/> (from <see cref="SignedInDataSource"/>) is the data source that signs in, where the
    /// connection string alone cannot.
    /// </summary>
    public static DbContextOptionsBuilder Use(this DbContextOptionsBuilder builder, string provider, string connectionString, NpgsqlDataSource? signedIn = null) => provider switch
    {
        Sqlite => builder.UseSqlite(connectionString),
        PostgreSql when signedIn is not null => builder.UseNpgsql(signedIn),
        PostgreSql => builder.UseNpgsql(PostgreSqlConnections.WithDefaults(connectionString)),
        _ => throw new InvalidOperationException($"Unknown database provider '{provider}': {Choices}."),
    };

    /// <summary>
    /// The data source that signs in to a PostgreSQL database with the host's Entra ID identity, where the
    /// <paramref name="credential"/> setting says so (<see cref="DatabaseCredential.ManagedIdentity"/>); null where the
    /// connection string is all it takes. Its connections get <see cref="PostgreSqlConnections.WithDefaults"/>.
    /// </summary>
    public static NpgsqlDataSource? SignedInDataSource(this IServiceProvider services, string provider, string connectionString, string credential) =>
        provider == PostgreSql && credential == DatabaseCredential.ManagedIdentity
            ? services.GetRequiredService<EntraDataSources>().For(PostgreSqlConnections.WithDefaults(connectionString))
            : null;

    /// <summary>A credential setting that applies to the provider: Entra ID sign-in is PostgreSQL's only.</summary>
    public static bool IsValidCredential(string provider, string credential) =>
        DatabaseCredential.IsKnown(credential) && (credential == DatabaseCredential.Password || provider == PostgreSql);

    public static DbContextOptions<T> Options<T>(string provider, string connectionString, NpgsqlDataSource? signedIn = null) where T : DbContext =>
        (DbContextOptions<T>)new DbContextOptionsBuilder<T>().Use(provider, connectionString, signedIn).Options;
}
