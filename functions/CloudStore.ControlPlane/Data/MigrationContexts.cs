using CloudStore.ControlPlane.Recordings;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace CloudStore.ControlPlane.Data.Migrations;

// EF Core migrations are written for one database: the same model makes different SQL on SQLite and PostgreSQL.
// Each schema therefore keeps one migration history per database, each bound to a context type of its own. These
// subclasses add nothing to the model; they exist only so that each history has a home. Requests use the plain
// DirectoryDbContext and IndexDbContext whatever the database.

/// <summary>The directory on SQLite, for its migrations (folder <c>SqliteDirectory</c>).</summary>
public sealed class SqliteDirectoryDbContext(DbContextOptions<SqliteDirectoryDbContext> options) : DirectoryDbContext(options);

/// <summary>The directory on PostgreSQL, for its migrations (folder <c>PostgresDirectory</c>).</summary>
public sealed class PostgresDirectoryDbContext(DbContextOptions<PostgresDirectoryDbContext> options) : DirectoryDbContext(options);

/// <summary>A regional index on SQLite, for its migrations (folder <c>SqliteIndex</c>).</summary>
public sealed class SqliteIndexDbContext(DbContextOptions<SqliteIndexDbContext> options) : IndexDbContext(options);

/// <summary>A regional index on PostgreSQL, for its migrations (folder <c>PostgresIndex</c>).</summary>
public sealed class PostgresIndexDbContext(DbContextOptions<PostgresIndexDbContext> options) : IndexDbContext(options);

// Design time (dotnet ef migrations add): the tools build each context here; adding a migration never connects.

sealed class SqliteDirectoryDesignFactory : IDesignTimeDbContextFactory<SqliteDirectoryDbContext>
{
    public SqliteDirectoryDbContext CreateDbContext(string[] args) => new(DatabaseProvider.Options<SqliteDirectoryDbContext>(DatabaseProvider.Sqlite, "Data Source=design-time.db"));
}

sealed class PostgresDirectoryDesignFactory : IDesignTimeDbContextFactory<PostgresDirectoryDbContext>
{
    public PostgresDirectoryDbContext CreateDbContext(string[] args) => new(DatabaseProvider.Options<PostgresDirectoryDbContext>(DatabaseProvider.PostgreSql, "Host=localhost;Database=design-time"));
}

sealed class SqliteIndexDesignFactory : IDesignTimeDbContextFactory<SqliteIndexDbContext>
{
    public SqliteIndexDbContext CreateDbContext(string[] args) => new(DatabaseProvider.Options<SqliteIndexDbContext>(DatabaseProvider.Sqlite, "Data Source=design-time.db"));
}

sealed class PostgresIndexDesignFactory : IDesignTimeDbContextFactory<PostgresIndexDbContext>
{
    public PostgresIndexDbContext CreateDbContext(string[] args) => new(DatabaseProvider.Options<PostgresIndexDbContext>(DatabaseProvider.PostgreSql, "Host=localhost;Database=design-time"));
}
