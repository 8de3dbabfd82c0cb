extern alias keyserver;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace CloudStore.Tests.Observability;

/// <summary>The key server in process, with its key store and audit database in a temporary folder.</summary>
public sealed class KeyServerFactory : WebApplicationFactory<keyserver::Program>
{
    public const string Issuer = "https://functions.cloudstore.test/api";

    readonly Dictionary<string, string?> _settings = [];

    public string Folder { get; } = Directory.CreateTempSubdirectory("cloudstore-keyserver-").FullName;

    public string KeyStoreRoot => Path.Combine(Folder, "keys");

    public string AuditDatabase => Path.Combine(Folder, "audit.db");

    /// <summary>Extra configuration (before the first client is created).</summary>
    public KeyServerFactory With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("KeyServer:TokenIssuer", Issuer);
        builder.UseSetting("KeyServer:KeyStoreRoot", KeyStoreRoot);
        builder.UseSetting("KeyServer:AuditDatabase", AuditDatabase);
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A file still open in the background; the temporary folder is cleaned by the OS.
        }
    }
}
