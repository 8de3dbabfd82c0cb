extern alias player;

using System.Net;
using System.Net.Http.Json;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Regional;
using CloudStore.Hosting;
using CloudStore.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using player::CloudStore.Player.Data;
using Xunit;

namespace CloudStore.Tests.Data;

/// <summary>
/// Signing in to PostgreSQL as Azure Database for PostgreSQL with Entra authentication wants it (infra/azure): a connection
/// string without a password and <c>Credential</c> <c>managed-identity</c>, the identity's Entra token as the password. Here a
/// role whose password is a token string stands for the identity's role, and a fake credential issues that token.
/// </summary>
public sealed class EntraSignInTests
{
    const string Region = "eu-frankfurt";

    [Fact]
    public async Task ControlPlane_PasswordlessConnectionStrings_SignInWithTheIdentitysToken_MigrateAndServe()
    {
        var credential = new FakeEntraDatabaseCredential(FakeEntraDatabaseCredential.NewToken());
        var (role, directory, index) = await NewDatabasesOwnedByAsync(credential.Token);
        await using var factory = ControlPlane(directory, index, credential);

        using var client = factory.CreateClient();
        using var signIn = await client.PostAsJsonAsync("/api/auth/sign-in", new CloudStore.Contracts.SignInRequest("nobody@example.test", "not a password at all"));

        Assert.Equal(HttpStatusCode.Unauthorized, signIn.StatusCode);
        Assert.Equal(role, await factory.WithDirectoryAsync(db => db.Database.SqlQuery<string>($"SELECT current_user AS \"Value\"").SingleAsync()));
        Assert.Empty(await DatabaseMigrations.PendingDirectoryAsync(DatabaseProvider.PostgreSql, (await TestDatabase.PostgresAsync()).ConnectionString(Database(directory)), CancellationToken.None));
        await using (var regionIndex = factory.Services.GetRequiredService<RegionCatalog>().OpenIndex(Region))
        {
            Assert.Equal(role, await regionIndex.Database.SqlQuery<string>($"SELECT current_user AS \"Value\"").SingleAsync());
            Assert.Equal(0, await regionIndex.Segments.CountAsync());
        }

        Assert.All(credential.Requests, scopes => Assert.Equal([EntraDataSources.Scope], scopes));
        Assert.NotEmpty(credential.Requests);
    }

    [Fact]
    public async Task ControlPlane_AnotherIdentitysToken_IsRefused_AndTheHostDoesNotStart()
    {
        var (_, directory, index) = await NewDatabasesOwnedByAsync(FakeEntraDatabaseCredential.NewToken());
        await using var factory = ControlPlane(directory, index, new FakeEntraDatabaseCredential(FakeEntraDatabaseCredential.NewToken()));

        var refused = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Equal(PostgresErrorCodes.InvalidPassword, Assert.IsType<PostgresException>(Innermost<PostgresException>(refused)).SqlState);
    }

    [Fact]
    public async Task Player_PasswordlessConnectionString_SignsInWithTheIdentitysToken_MigratesAndOpens()
    {
        var credential = new FakeEntraDatabaseCredential(FakeEntraDatabaseCredential.NewToken());
        var (role, database, _) = await NewDatabasesOwnedByAsync(credential.Token);
        var settings = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Player:Database:Provider"] = PlayerDatabase.PostgreSql,
            ["Player:Database:ConnectionString"] = database,
            ["Player:Database:Credential"] = DatabaseCredential.ManagedIdentity,
            ["Player:Database:ApplyMigrationsOnStart"] = "true",
        }).Build();
        await using var services = new ServiceCollection().AddSingleton<IConfiguration>(settings).AddPlayerDatabase()
            .AddSingleton(new EntraDataSources(credential)).BuildServiceProvider();

        await PlayerDatabase.PrepareAsync(services, CancellationToken.None);

        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<PlayerDbContext>();
        Assert.Equal(role, await db.Database.SqlQuery<string>($"SELECT current_user AS \"Value\"").SingleAsync());
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.Equal(0, await db.DataProtectionKeys.CountAsync());
    }

    static FunctionsFactory ControlPlane(string directory, string index, FakeEntraDatabaseCredential credential) => new FunctionsFactory()
        .With("Directory:Provider", DatabaseProvider.PostgreSql)
        .With("Directory:ConnectionString", directory)
        .With("Directory:Credential", DatabaseCredential.ManagedIdentity)
        .With("Directory:ApplyMigrationsOnStart", "true")
        .With($"Regions:{Region}:Index:Provider", DatabaseProvider.PostgreSql)
        .With($"Regions:{Region}:Index:ConnectionString", index)
        .With($"Regions:{Region}:Index:Credential", DatabaseCredential.ManagedIdentity)
        .WithServices(services => services.AddSingleton(new EntraDataSources(credential)));

    /// <summary>
    /// A login role whose password is <paramref name="token"/> (as Azure maps an identity's role to its tokens), owning two new
    /// databases; their connection strings as that role, with no password.
    /// </summary>
    static async Task<(string Role, string Directory, string Index)> NewDatabasesOwnedByAsync(string token)
    {
        var role = $"id_app_{Guid.NewGuid():N}";
        var directory = await TestDatabase.NewPostgresDatabaseAsync("entra_directory");
        var index = await TestDatabase.NewPostgresDatabaseAsync("entra_index");
        await using (var connection = new NpgsqlConnection(directory))
        {
            await connection.OpenAsync();
            // Identifiers and a password literal cannot be parameters; both are of this test's own making (hex, base64url).
            var statements = $"""
                CREATE ROLE "{role}" LOGIN PASSWORD '{token}';
                ALTER DATABASE "{Database(directory)}" OWNER TO "{role}";
                ALTER DATABASE "{Database(index)}" OWNER TO "{role}";
                """;
            await using var create = new NpgsqlCommand(statements, connection);
            await create.ExecuteNonQueryAsync();
        }

        return (role, Passwordless(directory, role), Passwordless(index, role));
    }

    static string Database(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString).Database!;

    static string Passwordless(string connectionString, string role) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Username = role, Password = null }.ConnectionString;

    static T? Innermost<T>(Exception? exception) where T : Exception
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            if (exception is T found)
            {
                return found;
            }
        }

        return null;
    }
}
