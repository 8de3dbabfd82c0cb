using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace CloudStore.ControlPlane.Data;

/// <summary>The <c>Directory</c> configuration section: which database holds the directory.</summary>
public sealed class DirectoryOptions
{
    public const string Section = "Directory";

    /// <summary><c>sqlite</c> (embedded default). PostgreSQL comes with the scale-out work.</summary>
    public string Provider { get; set; } = "sqlite";

    public string ConnectionString { get; set; } = "Data Source=.local/functions/directory.db";
}

public static class DirectoryServices
{
    public static IServiceCollection AddDirectory(this IServiceCollection services, IConfiguration configuration)
    {
        var options = configuration.GetSection(DirectoryOptions.Section).Get<DirectoryOptions>() ?? new DirectoryOptions();
        if (!string.Equals(options.Provider, "sqlite", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"Directory:Provider '{options.Provider}' is not supported; use 'sqlite'.");
        }

        var connection = new SqliteConnectionStringBuilder(options.ConnectionString);
        if (Path.GetDirectoryName(Path.GetFullPath(connection.DataSource)) is { } folder)
        {
            Directory.CreateDirectory(folder);
        }

        return services.AddDbContext<DirectoryDbContext>(db => db.UseSqlite(connection.ConnectionString));
    }

    /// <summary>Creates the schema on first start; WAL lets readers carry on while one request writes.</summary>
    public static async Task InitializeDirectoryAsync(this IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DirectoryDbContext>();
        await db.Database.OpenConnectionAsync(cancellationToken);
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        await DirectorySchema.EnsureCreatedAsync(db, cancellationToken);
    }
}
