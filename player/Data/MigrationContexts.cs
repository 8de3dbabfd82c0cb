using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace CloudStore.Player.Data.Migrations;

// As in the functions (CloudStore.ControlPlane.Data.Migrations): one migration history per database, each bound to a
// context type of its own that adds nothing to the model. Requests use the plain PlayerDbContext.

/// <summary>The player's database on SQLite, for its migrations (folder <c>SqlitePlayer</c>).</summary>
public sealed class SqlitePlayerDbContext(DbContextOptions<SqlitePlayerDbContext> options) : PlayerDbContext(options);

/// <summary>The player's database on PostgreSQL, for its migrations (folder <c>PostgresPlayer</c>).</summary>
public sealed class PostgresPlayerDbContext(DbContextOptions<PostgresPlayerDbContext> options) : PlayerDbContext(options);

sealed class SqlitePlayerDesignFactory : IDesignTimeDbContextFactory<SqlitePlayerDbContext>
{
    public SqlitePlayerDbContext CreateDbContext(string[] args) => new(new DbContextOptionsBuilder<SqlitePlayerDbContext>().UseSqlite("Data Source=design-time.db").Options);
}

sealed class PostgresPlayerDesignFactory : IDesignTimeDbContextFactory<PostgresPlayerDbContext>
{
    public PostgresPlayerDbContext CreateDbContext(string[] args) => new(new DbContextOptionsBuilder<PostgresPlayerDbContext>().UseNpgsql("Host=localhost;Database=design-time").Options);
}
