using System.Collections.Concurrent;
using System.Data.Common;
using Npgsql;

namespace CloudStore.Hosting;

/// <summary>
/// The connection settings every host gives its PostgreSQL databases unless the connection string sets its own
/// (OPERATIONS.md, <i>Connections</i>). Each was measured with <c>./cloudstore bench cameras</c> and <c>bench ingest</c>
/// (BENCHMARKS.md): PostgreSQL's CPU goes to each statement's protocol, parsing and planning far more than to executing it.
/// </summary>
public static class PostgreSqlConnections
{
    /// <summary>
    /// Connections an instance keeps per database. Npgsql's default is 100: when requests pile up (a burst, or more load
    /// than the instance serves), every pool grows towards it, each connection a server process that must authenticate, so
    /// an instance alone could pass the server's <c>max_connections</c>, and requests then failed ("too many clients")
    /// while the extra processes slowed the server further. With fewer connections, excess requests wait for one in the
    /// instance instead; the queries are short, so a few per core keep the server busy.
    /// </summary>
    public const int DefaultMaxPoolSize = 20;

    /// <summary>
    /// Statements each connection prepares once it has run them a few times (Npgsql's automatic preparation; 0, its default,
    /// prepares none): a prepared statement skips parsing and planning. The control plane sends a few dozen distinct
    /// statements, all parameterised by EF Core.
    /// </summary>
    public const int DefaultMaxAutoPrepare = 64;

    /// <summary>
    /// The connection string with the defaults above, and with <c>No Reset On Close</c>: a pooled connection is not reset
    /// (<c>DISCARD ALL</c>, one more statement at each reuse, half of all statements in the index path) when handed out
    /// again. That is safe because nothing here changes a session's state: no <c>SET</c>, temporary table or
    /// <c>LISTEN</c>; the one session lock (the player's migration lock) is released in a <c>finally</c>, and Npgsql still
    /// rolls back a transaction left open.
    /// </summary>
    /// <remarks>
    /// Remembered per connection string: the hosts build a context's options for each request, and parsing the string
    /// each time was 0.6 % of the functions host's CPU at 750 cameras (perf).
    /// </remarks>
    public static string WithDefaults(string connectionString) => Tuned.GetOrAdd(connectionString, Tune);

    /// <summary>One entry per database a host uses (the directory, each region's index, the player's).</summary>
    static readonly ConcurrentDictionary<string, string> Tuned = new(StringComparer.Ordinal);

    static string Tune(string connectionString)
    {
        var written = new DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Select(key => key.Replace(" ", "", StringComparison.Ordinal).ToLowerInvariant()).ToHashSet();
        var tuned = new NpgsqlConnectionStringBuilder(connectionString);
        if (!written.Overlaps(["maxpoolsize", "maximumpoolsize"]))
        {
            tuned.MaxPoolSize = DefaultMaxPoolSize;
        }
        if (!written.Contains("maxautoprepare"))
        {
            tuned.MaxAutoPrepare = DefaultMaxAutoPrepare;
        }
        if (!written.Contains("noresetonclose"))
        {
            tuned.NoResetOnClose = true;
        }
        return tuned.ConnectionString;
    }
}
