using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Npgsql;

namespace CloudStore.LocalStack;

/// <summary>
/// A PostgreSQL server from Debian's <c>postgresql</c> package, for the local stack and the tests: a cluster of its
/// own (<c>initdb</c>) in a folder of the project's, listening on a loopback TCP port only (no Unix socket), with
/// password (SCRAM) authentication for a superuser whose random password is kept 0600 beside the cluster.
/// PostgreSQL refuses to run as root: run as root, the server runs as the package's unprivileged <c>postgres</c> user.
/// Disposing stops it (fast shutdown: open sessions are ended, committed data is kept).
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string Superuser = "cloudstore";
    const string ServiceUser = "postgres";

    readonly Process _process;
    readonly string _bin;
    readonly string _dataFolder;
    readonly string? _runAs;
    bool _disposed;

    PostgresServer(Process process, string bin, string dataFolder, string? runAs, int port, string password, string logFile)
    {
        Folder = Path.GetDirectoryName(dataFolder)!;
        _process = process;
        _bin = bin;
        _dataFolder = dataFolder;
        _runAs = runAs;
        Port = port;
        Password = password;
        LogFile = logFile;
    }

    public int Port { get; }

    /// <summary>The postmaster's process; each connection is served by a child of it (benchmarks read their CPU time).</summary>
    public int ProcessId => _process.Id;

    /// <summary>Where the cluster is (the folder asked for, or its stand-in under /var/tmp: see <see cref="ReachableFolderAsync"/>).</summary>
    public string Folder { get; }

    public string LogFile { get; }

    string Password { get; }

    /// <summary>A connection string for <paramref name="database"/> as the superuser.</summary>
    public string ConnectionString(string database) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
        Port = Port,
        Username = Superuser,
        Password = Password,
        Database = database,
    }.ConnectionString;

    /// <param name="folder">The cluster's folder (created with <c>initdb</c> on first use, kept afterwards).</param>
    /// <param name="durable">False for tests: no fsync (a crash may lose the cluster, which tests recreate anyway).</param>
    /// <param name="settings">More server settings (<c>name=value</c>, each passed as <c>-c</c>), e.g. a benchmark's <c>shared_preload_libraries</c>.</param>
    public static async Task<PostgresServer> StartAsync(string folder, string logFile, bool durable, CancellationToken cancellationToken, IReadOnlyList<string>? settings = null)
    {
        var bin = FindBinaries();
        var runAs = Environment.UserName == "root" ? ServiceUser : null;
        folder = await ReachableFolderAsync(Path.GetFullPath(folder), runAs, cancellationToken);
        var dataFolder = Path.Combine(folder, "data");
        var passwordFile = Path.Combine(folder, "superuser-password");
        if (!File.Exists(Path.Combine(dataFolder, "PG_VERSION")))
        {
            await InitializeAsync(bin, folder, dataFolder, passwordFile, runAs, cancellationToken);
        }

        var password = (await File.ReadAllTextAsync(passwordFile, cancellationToken)).Trim();
        var port = ChildProcess.FreePort();
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logFile))!);
        var arguments = new List<string>
        {
            "-D", dataFolder,
            "-p", port.ToString(CultureInfo.InvariantCulture),
            "-c", "listen_addresses=127.0.0.1",
            "-c", "unix_socket_directories=",
            "-c", "max_connections=200",
        };
        if (!durable)
        {
            arguments.AddRange(["-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off"]);
        }

        arguments.AddRange((settings ?? []).SelectMany(setting => new[] { "-c", setting }));
        var process = Start(Path.Combine(bin, "postgres"), arguments, runAs, logFile);
        var server = new PostgresServer(process, bin, dataFolder, runAs, port, password, logFile);
        try
        {
            await server.WaitUntilReadyAsync(cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Creates <paramref name="database"/> if it does not exist yet; returns its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string database, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = database } } };
        if (await exists.ExecuteScalarAsync(cancellationToken) is null)
        {
            // Identifiers cannot be parameters; the name is quoted, and callers pass names of their own making.
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        return ConnectionString(database);
    }

    static async Task InitializeAsync(string bin, string folder, string dataFolder, string passwordFile, string? runAs, CancellationToken cancellationToken)
    {
        if (Directory.Exists(dataFolder))
        {
            Directory.Delete(dataFolder, recursive: true);
        }

        var password = Convert.ToHexString(RandomNumberGenerator.GetBytes(24)).ToLowerInvariant();
        await File.WriteAllTextAsync(passwordFile, password, cancellationToken);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.SetUnixFileMode(folder, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        if (runAs is not null)
        {
            await RunAsync("chown", ["-R", $"{runAs}:", folder], null, cancellationToken);
        }

        await RunAsync(Path.Combine(bin, "initdb"),
            ["-D", dataFolder, "-U", Superuser, "--pwfile", passwordFile, "--auth", "scram-sha-256", "-E", "UTF8", "--locale", "C.UTF-8", "--no-sync"],
            runAs, cancellationToken);
    }

    /// <summary>
    /// The folder itself, if the server's user can reach it. Run as root, the server runs as <c>postgres</c>, which cannot
    /// pass through a private folder above a checkout (a clone in a <c>mktemp -d</c> folder, say): the cluster then
    /// lives in a folder of its own under <c>/var/tmp</c>, named after the one asked for, and the log says so.
    /// </summary>
    static async Task<string> ReachableFolderAsync(string folder, string? runAs, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(folder);
        if (runAs is null || await CanReachAsync(Path.GetDirectoryName(folder)!, runAs, cancellationToken))
        {
            return folder;
        }

        var name = Convert.ToHexString(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(folder)))[..16].ToLowerInvariant();
        var elsewhere = Path.Combine("/var/tmp", "cloudstore-postgres-" + name);
        Directory.CreateDirectory(elsewhere);
        await File.WriteAllTextAsync(Path.Combine(folder, "WHERE.txt"),
            $"The PostgreSQL cluster for this folder is in {elsewhere}: the server runs as '{runAs}', which cannot reach {folder}.\n", cancellationToken);
        return elsewhere;
    }

    static async Task<bool> CanReachAsync(string folder, string user, CancellationToken cancellationToken)
    {
        try
        {
            await RunAsync("test", ["-x", folder], user, cancellationToken);
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    static string FindBinaries()
    {
        // Debian keeps the server programs out of PATH, one folder per major version; take the newest.
        var versions = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Where(d => File.Exists(Path.Combine(d, "bin", "postgres")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(d), out var v) ? v : 0).ToList()
            : [];
        return versions.Count > 0
            ? Path.Combine(versions[0], "bin")
            : throw new InvalidOperationException("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres): install the Debian package postgresql. `./cloudstore test` does when run as root.");
    }

    /// <summary>Starts <paramref name="program"/>, as <paramref name="runAs"/> when given (setpriv execs it, so the pid is the server's).</summary>
    static Process Start(string program, IEnumerable<string> arguments, string? runAs, string? logFile)
    {
        var start = new ProcessStartInfo(runAs is null ? program : "setpriv")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = "/",
        };
        if (runAs is not null)
        {
            foreach (var argument in new[] { $"--reuid={runAs}", $"--regid={runAs}", "--init-groups", "--", program })
            {
                start.ArgumentList.Add(argument);
            }
        }

        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        if (logFile is not null)
        {
            var log = new StreamWriter(logFile, append: true) { AutoFlush = true };
            process.OutputDataReceived += (_, e) => WriteLine(log, e.Data);
            process.ErrorDataReceived += (_, e) => WriteLine(log, e.Data);
            process.Exited += (_, _) => log.Dispose();
            process.EnableRaisingEvents = true;
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
        }

        return process;
    }

    static void WriteLine(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        try
        {
            log.WriteLine(line);
        }
        catch (ObjectDisposedException)
        {
            // The server has exited and its log is closed; the last lines were written.
        }
    }

    static async Task RunAsync(string program, IEnumerable<string> arguments, string? runAs, CancellationToken cancellationToken)
    {
        using var process = Start(program, arguments, runAs, logFile: null);
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(program)} failed with exit code {process.ExitCode}:\n{await output}{await error}");
        }
    }

    async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"PostgreSQL exited with code {_process.ExitCode} while starting. Its log, {LogFile}:\n{Tail()}");
            }

            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
                await connection.OpenAsync(cancellationToken);
                return;
            }
            catch (NpgsqlException) when (deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    string Tail() => File.Exists(LogFile) ? string.Join('\n', File.ReadLines(LogFile).TakeLast(30)) : "(no log)";

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        NpgsqlConnection.ClearAllPools();
        if (!_process.HasExited)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
                await RunAsync(Path.Combine(_bin, "pg_ctl"), ["stop", "-D", _dataFolder, "-m", "fast", "-w"], _runAs, timeout.Token);
            }
            catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
