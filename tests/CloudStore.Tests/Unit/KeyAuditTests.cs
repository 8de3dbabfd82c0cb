extern alias keyserver;
using keyserver::CloudStore.KeyServer.Unwrap;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace CloudStore.Tests.Unit;

/// <summary>The key server's audit log commits rows in groups, but no write returns before its row is in the database.</summary>
public sealed class KeyAuditTests : IDisposable
{
    readonly string _folder = Directory.CreateTempSubdirectory("cloudstore-key-audit-").FullName;

    string Database => Path.Combine(_folder, "audit.db");

    [Fact]
    public async Task WriteAsync_ManyAtOnce_EachRowCommittedWhenItsWriteReturns()
    {
        await using var audit = new KeyAudit(Database, NullLogger<KeyAudit>.Instance);
        var organization = Guid.NewGuid().ToString();

        var missing = await Task.WhenAll(Enumerable.Range(0, 200).Select(i => Task.Run(async () =>
        {
            var keyId = $"key-{i}";
            await audit.WriteAsync(TimeProvider.System.GetUtcNow(), organization, $"user-{i}", "127.0.0.1", "camera", keyId, "success", CancellationToken.None);
            return await CountAsync(keyId) == 1 ? 0 : 1; // Read through a connection of its own: committed, not just queued.
        })));

        Assert.Equal(0, missing.Sum());
        Assert.Equal(200, (await audit.QueryAsync(organization, 1000, CancellationToken.None)).Count);
    }

    [Fact]
    public async Task WriteAsync_DatabaseDeletedUnderneath_Throws_RatherThanWritingIntoTheDeletedFile()
    {
        await using var audit = new KeyAudit(Database, NullLogger<KeyAudit>.Instance);
        await audit.WriteAsync(TimeProvider.System.GetUtcNow(), "org", "user", "127.0.0.1", "camera", "key", "success", CancellationToken.None);

        SqliteConnection.ClearAllPools();
        foreach (var file in Directory.EnumerateFiles(_folder, "audit.db*"))
        {
            File.Delete(file);
        }

        await Assert.ThrowsAnyAsync<Exception>(() => audit.WriteAsync(TimeProvider.System.GetUtcNow(), "org", "user", "127.0.0.1", "camera", "key", "success", CancellationToken.None));
        Assert.False(File.Exists(Database));
    }

    async Task<long> CountAsync(string keyId)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = Database, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM Unwraps WHERE KeyId = $key";
        command.Parameters.AddWithValue("$key", keyId);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }
}
