extern alias player;

using CloudStore.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using player::CloudStore.Player.Data;
using Xunit;

namespace CloudStore.Tests.Data;

/// <summary>The player's database (sessions, data-protection keys): its migrations on both databases, as the directory's.</summary>
public sealed class PlayerDatabaseTests
{
    public static TheoryData<string> Providers => [PlayerDatabase.Sqlite, PlayerDatabase.PostgreSql];

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Model_HasNoChangeMissingFromTheMigrations(string provider)
    {
        var connectionString = provider == PlayerDatabase.Sqlite ? "Data Source=unused.db" : "Host=unused;Database=unused";
        await using var db = PlayerDatabase.Open(new PlayerDatabaseOptions { Provider = provider, ConnectionString = connectionString });

        Assert.False(db.Database.HasPendingModelChanges(), $"The player's model changed without a migration for {provider}: run dotnet ef migrations add (docs/OPERATIONS.md).");
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Migrate_FourInstancesAtOnce_EachMigrationAppliedOnce_ThenTheySeeNothingPending(string provider)
    {
        var (options, cleanUp) = await NewDatabaseAsync(provider);
        try
        {
            var runs = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => PlayerDatabase.MigrateAsync(options, CancellationToken.None))));

            await using var db = PlayerDatabase.Open(options);
            var applied = (await db.Database.GetAppliedMigrationsAsync()).ToList();
            Assert.Equal(db.Database.GetMigrations(), applied);
            Assert.Equal(applied.Count, applied.Distinct().Count()); // the history holds each migration once
            Assert.NotEmpty(runs.SelectMany(r => r)); // (on SQLite, instances that looked before the first finished report what they saw pending)
            Assert.Empty(await PlayerDatabase.MigrateAsync(options, CancellationToken.None));
            Assert.Equal(0, await db.Sessions.CountAsync());
        }
        finally
        {
            cleanUp();
        }
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Player_OnAnOlderSchema_RefusesToStart_UnlessToldToMigrate(string provider)
    {
        var (options, cleanUp) = await NewDatabaseAsync(provider);
        try
        {
            var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => PrepareAsync(options));
            options.ApplyMigrationsOnStart = true;
            await PrepareAsync(options);
            options.ApplyMigrationsOnStart = false;
            await PrepareAsync(options);

            Assert.Contains("migrate", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            cleanUp();
        }
    }

    static async Task PrepareAsync(PlayerDatabaseOptions options)
    {
        await using var services = new ServiceCollection().AddSingleton(Microsoft.Extensions.Options.Options.Create(options)).BuildServiceProvider();
        await PlayerDatabase.PrepareAsync(services, CancellationToken.None);
    }

    static async Task<(PlayerDatabaseOptions Options, Action CleanUp)> NewDatabaseAsync(string provider)
    {
        if (provider == PlayerDatabase.PostgreSql)
        {
            return (new PlayerDatabaseOptions { Provider = provider, ConnectionString = await TestDatabase.NewPostgresDatabaseAsync("player") }, NpgsqlConnection.ClearAllPools);
        }

        var folder = Directory.CreateTempSubdirectory("cloudstore-player-db-").FullName;
        return (new PlayerDatabaseOptions { Provider = provider, ConnectionString = $"Data Source={Path.Combine(folder, "state", "player.db")}" }, () =>
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(folder, recursive: true);
        });
    }
}
