using System.Globalization;
using CloudStore.LocalStack;
using Npgsql;

namespace CloudStore.Bench;

/// <summary>
/// What PostgreSQL spent its time on during a measurement, from <c>pg_stat_statements</c> (loaded by the bench's server
/// settings; its own overhead is a few per cent): statements run, across every database of the stack, and the costliest.
/// </summary>
public sealed class StatementStatistics(PostgresServer server) : IAsyncDisposable
{
    /// <summary>Server settings that load the extension (it must be preloaded when the server starts).</summary>
    public static IReadOnlyList<string> ServerSettings { get; } = ["shared_preload_libraries=pg_stat_statements", "pg_stat_statements.track=top"];

    /// <summary>
    /// One connection for the whole run, opened before the load: past capacity the server may have no connection left to
    /// give (that is one of the things measured), and the bench must still read what happened.
    /// </summary>
    NpgsqlConnection? _connection;

    long _sessionsAtReset;

    NpgsqlConnection Connection => _connection ?? throw new InvalidOperationException("Call EnableAsync first.");

    public async Task EnableAsync(CancellationToken cancellationToken)
    {
        _connection = new NpgsqlConnection(server.ConnectionString("postgres"));
        await _connection.OpenAsync(cancellationToken);
        await using var create = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", _connection);
        await create.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task ResetAsync(CancellationToken cancellationToken)
    {
        await using var reset = new NpgsqlCommand("SELECT pg_stat_statements_reset()", Connection);
        await reset.ExecuteNonQueryAsync(cancellationToken);
        _sessionsAtReset = await SessionsAsync(cancellationToken);
    }

    /// <summary>Connections (server processes) started so far, in every database.</summary>
    async Task<long> SessionsAsync(CancellationToken cancellationToken)
    {
        await using var sessions = new NpgsqlCommand("SELECT sum(sessions)::bigint FROM pg_stat_database", Connection);
        return (long)(await sessions.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Every statement since the last reset (the bench's own reads of the view excluded).</summary>
    public async Task<Reading> ReadAsync(CancellationToken cancellationToken)
    {
        var statements = new List<Statement>();
        await using (var read = new NpgsqlCommand(
            """
            SELECT d.datname, s.calls, s.total_exec_time, s.rows, regexp_replace(s.query, '\s+', ' ', 'g')
            FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
            WHERE s.query NOT LIKE '%pg_stat_statements%'
            ORDER BY s.total_exec_time DESC
            """, Connection))
        await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                statements.Add(new Statement(reader.GetString(0), reader.GetInt64(1), reader.GetDouble(2), reader.GetInt64(3), reader.GetString(4)));
            }
        }

        return new Reading(statements, await SessionsAsync(cancellationToken) - _sessionsAtReset);
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }

    public sealed record Statement(string Database, long Calls, double TotalMilliseconds, long Rows, string Query);

    /// <param name="Sessions">Connections opened since the reset: each is a new server process and an authentication.</param>
    public sealed record Reading(IReadOnlyList<Statement> Statements, long Sessions)
    {
        public long Calls => Statements.Sum(s => s.Calls);

        public double TotalMilliseconds => Statements.Sum(s => s.TotalMilliseconds);

        /// <summary>The costliest statements, one line each: database, calls, total and mean time, the statement (shortened).</summary>
        public IEnumerable<string> Top(int count) => Statements.Take(count).Select(s => string.Create(CultureInfo.InvariantCulture,
            $"{s.Database,-16} {s.Calls,8:N0} calls {s.TotalMilliseconds,9:F0} ms total {s.TotalMilliseconds / Math.Max(1, s.Calls),7:F3} ms mean  {(s.Query.Length > 110 ? s.Query[..110] + "…" : s.Query)}"));
    }
}
