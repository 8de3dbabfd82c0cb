using System.Net;
using CloudStore.ControlPlane.Data;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace CloudStore.Tests.Infrastructure;

/// <summary>
/// The functions app in process, on a directory of its own (a SQLite file in a temporary folder, or a PostgreSQL
/// database: <see cref="TestDatabase"/>) and its own signing key.
/// The header <see cref="ClientHeader"/> sets the client address a request appears to come from,
/// so tests can act as several clients (the in-memory test server has no real peer address).
/// </summary>
public sealed class FunctionsFactory : WebApplicationFactory<Program>
{
    public const string ClientHeader = "X-Test-Client-Address";
    public const string Issuer = "https://functions.cloudstore.test/api";

    /// <summary>The player origin invitation and password-reset links point at.</summary>
    public const string PlayerOrigin = "https://player.cloudstore.test";

    readonly Dictionary<string, string?> _settings = [];
    readonly List<Action<IServiceCollection>> _services = [];

    public FunctionsFactory()
    {
        Folder = Directory.CreateTempSubdirectory("cloudstore-functions-").FullName;
    }

    public string Folder { get; }

    public TestClock Clock { get; } = new();

    /// <summary>Extra configuration (before the first client is created).</summary>
    public FunctionsFactory With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    /// <summary>Extra services or service configuration (before the first client is created).</summary>
    public FunctionsFactory WithServices(Action<IServiceCollection> configure)
    {
        _services.Add(configure);
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("Auth:Issuer", Issuer);
        builder.UseSetting("Auth:SigningKeyFile", Path.Combine(Folder, "signing-key.pem"));
        builder.UseSetting("Directory:Provider", TestDatabase.Provider);
        builder.UseSetting("Directory:ConnectionString", TestDatabase.IsPostgres
            ? TestDatabase.NewPostgresDatabaseAsync("directory").GetAwaiter().GetResult()
            : $"Data Source={Path.Combine(Folder, "directory.db")}");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Player:Origin", PlayerOrigin);

        // The run's shared maildev (TestMailServer, started by TestTenant): real SMTP, read back through its REST API.
        builder.UseSetting("Mail:SmtpHost", "127.0.0.1");
        builder.UseSetting("Mail:SmtpPort", TestMailServer.SmtpPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Mail:Security", "None");
        builder.UseSetting("Mail:FromAddress", CloudStore.LocalStack.MailDev.FromAddress);
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureServices(services =>
        {
            services.RemoveAll<TimeProvider>();
            services.AddSingleton<TimeProvider>(Clock);
            services.AddSingleton<IStartupFilter>(new ClientAddressFilter());
            foreach (var configure in _services)
            {
                configure(services);
            }
        });
    }

    /// <summary>A scope on the app's services, for reading what was stored.</summary>
    public async Task<T> WithDirectoryAsync<T>(Func<DirectoryDbContext, Task<T>> read)
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<DirectoryDbContext>();
        return await read(db);
    }

    public async Task<int> CountAsync<TEntity>() where TEntity : class =>
        await WithDirectoryAsync(db => db.Set<TEntity>().CountAsync());

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

    sealed class ClientAddressFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                context.Connection.RemoteIpAddress =
                    IPAddress.TryParse(context.Request.Headers[ClientHeader].ToString(), out var address) ? address : IPAddress.Loopback;
                return nextMiddleware();
            });
            next(app);
        };
    }
}
