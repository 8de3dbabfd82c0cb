using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CloudStore.KeyServer.Unwrap;

/// <summary>One unwrap or refusal, as the key server saw it.</summary>
public sealed record KeyAuditEntry(long Id, DateTimeOffset Time, string OrganizationId, string User, string SourceAddress, string CameraId, string KeyId, string Outcome);

/// <summary>
/// The key server's own audit log: every unwrap and every refusal (user, camera, key id, outcome).
/// It lives with the key server, in its trust boundary, append-only (the database refuses changes).
/// As a health check it reads one row: the database file opens and holds the log.
/// </summary>
public sealed class KeyAudit : IHealthCheck
{
    readonly string _connectionString;

    public KeyAudit(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path }.ToString();
        using var connection = Open();
        using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode=WAL;
            CREATE TABLE IF NOT EXISTS Unwraps (
              Id INTEGER PRIMARY KEY AUTOINCREMENT, Time INTEGER NOT NULL, OrganizationId TEXT NOT NULL, User TEXT NOT NULL,
              SourceAddress TEXT NOT NULL, CameraId TEXT NOT NULL, KeyId TEXT NOT NULL, Outcome TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS Unwraps_Organization_Time ON Unwraps (OrganizationId, Time);
            CREATE TRIGGER IF NOT EXISTS Unwraps_NoUpdate BEFORE UPDATE ON Unwraps BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
            CREATE TRIGGER IF NOT EXISTS Unwraps_NoDelete BEFORE DELETE ON Unwraps BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
            """;
        command.ExecuteNonQuery();
    }

    SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    public async Task WriteAsync(DateTimeOffset time, string organizationId, string user, string sourceAddress, string cameraId, string keyId, string outcome, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO Unwraps (Time, OrganizationId, User, SourceAddress, CameraId, KeyId, Outcome) VALUES ($time, $organization, $user, $source, $camera, $key, $outcome)";
        command.Parameters.AddWithValue("$time", time.ToUnixTimeMilliseconds());
        command.Parameters.AddWithValue("$organization", organizationId);
        command.Parameters.AddWithValue("$user", user);
        command.Parameters.AddWithValue("$source", sourceAddress);
        command.Parameters.AddWithValue("$camera", cameraId);
        command.Parameters.AddWithValue("$key", keyId);
        command.Parameters.AddWithValue("$outcome", outcome);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            // Read-only: a deleted file must fail the check rather than be made again, empty.
            await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder(_connectionString) { Mode = SqliteOpenMode.ReadOnly }.ToString());
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT Id FROM Unwraps LIMIT 1";
            await command.ExecuteScalarAsync(cancellationToken);
            return HealthCheckResult.Healthy("readable");
        }
        catch (SqliteException e)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "not readable", e);
        }
    }

    /// <summary>An organisation's entries, newest first.</summary>
    public async Task<IReadOnlyList<KeyAuditEntry>> QueryAsync(string organizationId, int limit, CancellationToken cancellationToken)
    {
        await using var connection = Open();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT Id, Time, OrganizationId, User, SourceAddress, CameraId, KeyId, Outcome FROM Unwraps WHERE OrganizationId = $organization ORDER BY Id DESC LIMIT $limit";
        command.Parameters.AddWithValue("$organization", organizationId);
        command.Parameters.AddWithValue("$limit", limit);
        var entries = new List<KeyAuditEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new KeyAuditEntry(reader.GetInt64(0), DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(1)), reader.GetString(2),
                reader.GetString(3), reader.GetString(4), reader.GetString(5), reader.GetString(6), reader.GetString(7)));
        }

        return entries;
    }
}
