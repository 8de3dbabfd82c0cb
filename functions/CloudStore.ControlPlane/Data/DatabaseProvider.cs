using System.Data.Common;
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
    /// PostgreSQL connections an instance keeps per database (the directory, each region's index) unless its connection
    /// string sets <c>Maximum Pool Size</c>. Npgsql's default is 100: when requests pile up (a burst, or more load than the
    /// instance serves), every pool grows towards it, each connection a server process that must authenticate, so an
    /// instance alone could pass the server's <c>max_connections</c>, and requests then failed ("too many clients", measured
    /// by <c>./cloudstore bench cameras</c>) while the extra processes slowed the server further. With fewer connections,
    /// excess requests wait for one in the instance instead; the queries are short, so a few per core keep the server busy.
    /// </summary>
    public const int DefaultMaxPoolSize = 20;

    /// <summary>
    /// Points <paramref name="builder"/> at the database; SQLite waits up to 30 s for another writer's lock. On PostgreSQL,
    /// <paramref name="signedIn"/> (from <see cref="SignedInDataSource"/>) is the data source that signs in, where the
    /// connection string alone cannot.
    /// </summary>
    public static DbContextOptionsBuilder Use(this DbContextOptionsBuilder builder, string provider, string connectionString, NpgsqlDataSource? signedIn = null) => provider switch
    {
        Sqlite => builder.UseSqlite(connectionString),
        PostgreSql when signedIn is not null => builder.UseNpgsql(signedIn),
        PostgreSql => builder.UseNpgsql(WithPoolLimit(connectionString)),
        _ => throw new InvalidOperationException($"Unknown database provider '{provider}': {Choices}."),
    };

    /// <summary>
    /// The data source that signs in to a PostgreSQL database with the host's Entra ID identity, where the
    /// <paramref name="credential"/> setting says so (<see cref="DatabaseCredential.ManagedIdentity"/>); null where the
    /// connection string is all it takes. Its pool is limited as <see cref="WithPoolLimit"/> says.
    /// </summary>
    public static NpgsqlDataSource? SignedInDataSource(this IServiceProvider services, string provider, string connectionString, string credential) =>
        provider == PostgreSql && credential == DatabaseCredential.ManagedIdentity
            ? services.GetRequiredService<EntraDataSources>().For(WithPoolLimit(connectionString))
            : null;

    /// <summary>A credential setting that applies to the provider: Entra ID sign-in is PostgreSQL's only.</summary>
    public static bool IsValidCredential(string provider, string credential) =>
        DatabaseCredential.IsKnown(credential) && (credential == DatabaseCredential.Password || provider == PostgreSql);

    /// <summary>The connection string with <see cref="DefaultMaxPoolSize"/>, unless it sets a pool size of its own.</summary>
    public static string WithPoolLimit(string connectionString)
    {
        var written = new DbConnectionStringBuilder { ConnectionString = connectionString };
        return written.ContainsKey("Maximum Pool Size") || written.ContainsKey("MaxPoolSize")
            ? connectionString
            : new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = DefaultMaxPoolSize }.ConnectionString;
    }

    public static DbContextOptions<T> Options<T>(string provider, string connectionString, NpgsqlDataSource? signedIn = null) where T : DbContext =>
        (DbContextOptions<T>)new DbContextOptionsBuilder<T>().Use(provider, connectionString, signedIn).Options;
}
