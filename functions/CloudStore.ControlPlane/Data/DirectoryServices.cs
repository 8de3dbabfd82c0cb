using CloudStore.Hosting;
using Microsoft.Extensions.Options;

namespace CloudStore.ControlPlane.Data;

/// <summary>The <c>Directory</c> configuration section: which database holds the directory.</summary>
public sealed class DirectoryOptions
{
    public const string Section = "Directory";

    /// <summary><c>sqlite</c> (embedded default) or <c>postgresql</c> (production: every instance shares it).</summary>
    public string Provider { get; set; } = DatabaseProvider.Sqlite;

    public string ConnectionString { get; set; } = "Data Source=.local/functions/directory.db";

    /// <summary>
    /// How to sign in to a PostgreSQL directory: <c>password</c> (whatever the connection string carries) or
    /// <c>managed-identity</c> (an Entra ID token of the app's identity; the connection string has no password).
    /// </summary>
    public string Credential { get; set; } = DatabaseCredential.Password;

    /// <summary>
    /// Apply pending migrations (directory and regional indexes) at start: the local stack does; a deployment runs
    /// the <c>migrate</c> command instead, and an instance started on an older schema refuses to start.
    /// </summary>
    public bool ApplyMigrationsOnStart { get; set; }
}

public static class DirectoryServices
{
    public static IServiceCollection AddDirectory(this IServiceCollection services)
    {
        services.AddOptions<DirectoryOptions>().BindConfiguration(DirectoryOptions.Section)
            .Validate(o => DatabaseProvider.IsKnown(o.Provider), $"Directory:Provider must be {DatabaseProvider.Choices}.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.ConnectionString), "Directory:ConnectionString is required.")
            .Validate(o => DatabaseProvider.IsValidCredential(o.Provider, o.Credential), $"Directory:Credential must be {DatabaseCredential.Choices} ('managed-identity' with postgresql only).")
            .ValidateOnStart();
        services.AddEntraDataSources();
        return services.AddDbContext<DirectoryDbContext>((provider, db) =>
        {
            var options = provider.GetRequiredService<IOptions<DirectoryOptions>>().Value;
            db.Use(options.Provider, options.ConnectionString, provider.SignedInDataSource(options.Provider, options.ConnectionString, options.Credential));
        });
    }

    /// <summary>Migrates the directory at start, or checks that someone has (see <see cref="DirectoryOptions.ApplyMigrationsOnStart"/>).</summary>
    public static async Task InitializeDirectoryAsync(this IServiceProvider services, CancellationToken cancellationToken)
    {
        var options = services.GetRequiredService<IOptions<DirectoryOptions>>().Value;
        var signedIn = services.SignedInDataSource(options.Provider, options.ConnectionString, options.Credential);
        if (options.ApplyMigrationsOnStart)
        {
            await DatabaseMigrations.MigrateDirectoryAsync(options.Provider, options.ConnectionString, cancellationToken, signedIn);
            return;
        }

        var pending = await DatabaseMigrations.PendingDirectoryAsync(options.Provider, options.ConnectionString, cancellationToken, signedIn);
        if (pending.Count > 0)
        {
            throw new InvalidOperationException(
                $"The directory's schema is older than this build ({pending.Count} migrations pending, the first {pending[0]}): run the `migrate` operations command, then start again.");
        }
    }
}
