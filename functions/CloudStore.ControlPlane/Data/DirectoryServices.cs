using Microsoft.Extensions.Options;
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
    public static IServiceCollection AddDirectory(this IServiceCollection services)
    {
        services.AddOptions<DirectoryOptions>().BindConfiguration(DirectoryOptions.Section)
            .Validate(o => string.Equals(o.Provider, "sqlite", StringComparison.OrdinalIgnoreCase), "Directory:Provider must be 'sqlite' (PostgreSQL comes with the scale-out work).")
            .Validate(o => !string.IsNullOrWhiteSpace(o.ConnectionString), "Directory:ConnectionString is required.")
            .ValidateOnStart();
        return services.AddDbContext<DirectoryDbContext>((provider, db) =>
            db.UseSqlite(provider.GetRequiredService<IOptions<DirectoryOptions>>().Value.ConnectionString));
    }

    /// <summary>Creates the schema on first start; WAL lets readers carry on while one request writes.</summary>
    public static async Task InitializeDirectoryAsync(this IServiceProvider services, CancellationToken cancellationToken)
    {
        var connection = new SqliteConnectionStringBuilder(services.GetRequiredService<IOptions<DirectoryOptions>>().Value.ConnectionString);
        if (Path.GetDirectoryName(Path.GetFullPath(connection.DataSource)) is { Length: > 0 } folder)
        {
            Directory.CreateDirectory(folder);
        }

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DirectoryDbContext>();
        await db.Database.OpenConnectionAsync(cancellationToken);
        await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        await DirectorySchema.EnsureCreatedAsync(db, cancellationToken);
    }
}
