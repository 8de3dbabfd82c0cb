using Microsoft.EntityFrameworkCore;

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

    /// <summary>Points <paramref name="builder"/> at the database; SQLite waits up to 30 s for another writer's lock.</summary>
    public static DbContextOptionsBuilder Use(this DbContextOptionsBuilder builder, string provider, string connectionString) => provider switch
    {
        Sqlite => builder.UseSqlite(connectionString),
        PostgreSql => builder.UseNpgsql(connectionString),
        _ => throw new InvalidOperationException($"Unknown database provider '{provider}': {Choices}."),
    };

    public static DbContextOptions<T> Options<T>(string provider, string connectionString) where T : DbContext =>
        (DbContextOptions<T>)new DbContextOptionsBuilder<T>().Use(provider, connectionString).Options;
}
