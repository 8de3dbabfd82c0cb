using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace CloudStore.KeyServer.Unwrap;

/// <summary>One unwrap or refusal, as the key server saw it.</summary>
public sealed record KeyAuditEntry(long Id, DateTimeOffset Time, string OrganizationId, string User, string SourceAddress, string CameraId, string KeyId, string Outcome);

/// <summary>
/// The key server's own audit log: every unwrap and every refusal (user, camera, key id, outcome).
/// It lives with the key server, in its trust boundary, append-only (the database refuses changes).
/// As a health check it reads one row: the database file opens and holds the log.
/// <para>
/// Group commit. <see cref="WriteAsync"/> returns only once its row is committed and on disk (WAL,
/// <c>synchronous=FULL</c>), so no key leaves the server before its row is durable. One writer takes the rows
/// waiting in a bounded queue and commits them together in one transaction, one fsync for all of them: a
/// commit per request cost a fsync each, and concurrent writers on separate connections collided on SQLite's
/// write lock, which Microsoft.Data.Sqlite answers by sleeping and retrying (hundreds of milliseconds at the
/// 99th percentile). Under light load each row is its own batch, so nothing waits for company. If a commit
/// fails, every request in the batch fails (500, no key); disposing the log writes what is queued first.
/// </para>
/// </summary>
public sealed partial class KeyAudit : IHealthCheck, IAsyncDisposable
{
    /// <summary>Rows waiting for the writer; a request that finds the queue full waits (back-pressure), never drops its row.</summary>
    public const int QueueCapacity = 4096;

    /// <summary>Most rows in one transaction: enough for a burst, small enough that one commit stays short.</summary>
    const int MaxBatch = 512;

    readonly string _path;
    readonly string _connectionString;
    readonly ILogger<KeyAudit> _logger;
    readonly Channel<PendingRow> _queue = Channel.CreateBounded<PendingRow>(
        new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    readonly Thread _writer;
    readonly TaskCompletionSource _writerStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    sealed record PendingRow(long Time, string OrganizationId, string User, string SourceAddress, string CameraId, string KeyId, string Outcome)
    {
        public TaskCompletionSource Committed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public KeyAudit(string path, ILogger<KeyAudit> logger)
    {
        _logger = logger;
        _path = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path }.ToString();
        using (var connection = Open())
        using (var command = connection.CreateCommand())
        {
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

        // A thread of its own: each commit blocks in fsync, which must not hold one of the thread pool's workers
        // (two, on a two-core machine) while requests wait for them.
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "key-audit-writer" };
        _writer.Start();
    }

    SqliteConnection Open()
    {
        var connection = new SqliteConnection(_connectionString);
        connection.Open();
        return connection;
    }

    /// <summary>Appends one entry; completes when it is committed to disk.</summary>
    /// <exception cref="ChannelClosedException">The log is shutting down.</exception>
    public async Task WriteAsync(DateTimeOffset time, string organizationId, string user, string sourceAddress, string cameraId, string keyId, string outcome, CancellationToken cancellationToken)
    {
        var row = new PendingRow(time.ToUnixTimeMilliseconds(), organizationId, user, sourceAddress, cameraId, keyId, outcome);
        await _queue.Writer.WriteAsync(row, cancellationToken);
        // Not cancelled once queued: the row is written either way, and the caller must not carry on before it is.
        await row.Committed.Task;
    }

    void WriteLoop()
    {
        Writer? writer = null;
        var batch = new List<PendingRow>(MaxBatch);
        try
        {
            // Blocking is this thread's job: it waits for rows, then for the disk.
            while (_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
            {
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var row))
                {
                    batch.Add(row);
                }

                try
                {
                    writer ??= new Writer(_connectionString, _path);
                    writer.Commit(batch);
                    batch.ForEach(row => row.Committed.TrySetResult());
                }
                catch (Exception e)
                {
                    // Whatever went wrong, these rows are not written: their requests fail, and the next batch starts afresh.
                    LogCommitFailed(_logger, batch.Count, e);
                    batch.ForEach(row => row.Committed.TrySetException(e));
                    writer?.Dispose();
                    writer = null;
                }

                batch.Clear();
            }
        }
        finally
        {
            writer?.Dispose();
            _writerStopped.TrySetResult();
        }
    }

    /// <summary>The writer's connection and prepared insert, kept from one batch to the next.</summary>
    sealed class Writer : IDisposable
    {
        static readonly string[] ParameterNames = ["$time", "$organization", "$user", "$source", "$camera", "$key", "$outcome"];
        readonly string _path;
        readonly SqliteConnection _connection;
        readonly SqliteCommand _insert;
        readonly SqliteParameter[] _parameters;

        public Writer(string connectionString, string path)
        {
            _path = path;
            // ReadWrite, not ReadWriteCreate: a database deleted under the key server must not come back empty.
            _connection = new SqliteConnection(new SqliteConnectionStringBuilder(connectionString) { Mode = SqliteOpenMode.ReadWrite, Pooling = false }.ToString());
            _connection.Open();
            using (var pragma = _connection.CreateCommand())
            {
                // FULL: each commit is fsynced before it returns, whatever the build's default for WAL.
                pragma.CommandText = "PRAGMA synchronous=FULL;";
                pragma.ExecuteNonQuery();
            }

            _insert = _connection.CreateCommand();
            _insert.CommandText = "INSERT INTO Unwraps (Time, OrganizationId, User, SourceAddress, CameraId, KeyId, Outcome) VALUES ($time, $organization, $user, $source, $camera, $key, $outcome)";
            _parameters = [.. ParameterNames.Select(name => _insert.Parameters.Add(new SqliteParameter { ParameterName = name }))];
            _insert.Prepare();
        }

        /// <summary>All rows in one transaction: one fsync.</summary>
        public void Commit(List<PendingRow> rows)
        {
            // One stat a batch: rows must not go into a database file that was deleted while open.
            if (!File.Exists(_path))
            {
                throw new IOException("The audit database is gone.");
            }

            using var transaction = _connection.BeginTransaction();
            _insert.Transaction = transaction;
            foreach (var row in rows)
            {
                _parameters[0].Value = row.Time;
                _parameters[1].Value = row.OrganizationId;
                _parameters[2].Value = row.User;
                _parameters[3].Value = row.SourceAddress;
                _parameters[4].Value = row.CameraId;
                _parameters[5].Value = row.KeyId;
                _parameters[6].Value = row.Outcome;
                _insert.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        public void Dispose()
        {
            _insert.Dispose();
            _connection.Dispose();
        }
    }

    /// <summary>Stops taking rows, then waits until every queued row is committed (or failed).</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _writerStopped.Task;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Key audit: a commit of {Rows} rows failed; their requests are answered 500")]
    static partial void LogCommitFailed(ILogger logger, int rows, Exception exception);

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
