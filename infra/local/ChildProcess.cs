using System.Diagnostics;
using System.Net.Sockets;
using CloudStore.Contracts;

namespace CloudStore.LocalStack;

/// <summary>
/// A server the stack starts: its output goes to a log file, readiness is an HTTPS answer, and
/// disposing it ends the process and its children.
/// </summary>
public sealed class ChildProcess : IAsyncDisposable
{
    readonly Process _process;
    readonly StreamWriter _log;

    ChildProcess(string name, Process process, StreamWriter log, string logFile)
    {
        Name = name;
        _process = process;
        _log = log;
        LogFile = logFile;
    }

    public string Name { get; }

    public string LogFile { get; }

    public bool HasExited => _process.HasExited;

    public int Id => _process.Id;

    /// <summary>Starts <paramref name="fileName"/> and waits until <paramref name="readinessUrl"/> answers (any status), trusting <paramref name="caCertificateFile"/> for HTTPS.</summary>
    public static async Task<ChildProcess> StartAsync(
        string name,
        string fileName,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string> environment,
        string logFile,
        Uri readinessUrl,
        string? caCertificateFile,
        CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryLayout.Root,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
        var log = new StreamWriter(logFile, append: true) { AutoFlush = true };
        var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {fileName}.");
        process.OutputDataReceived += (_, e) => Write(log, e.Data);
        process.ErrorDataReceived += (_, e) => Write(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var child = new ChildProcess(name, process, log, logFile);
        try
        {
            await child.WaitUntilReadyAsync(readinessUrl, caCertificateFile, cancellationToken);
            return child;
        }
        catch
        {
            await child.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// A free TCP port on loopback, below the range the OS takes ephemeral ports from: a port the OS picked itself could
    /// be given to some process's outgoing connection in the window before the child binds it (a host then failed to
    /// start with "address already in use" while browsers and other stacks were busy). A small window remains against
    /// another stack picking the same port at the same moment.
    /// </summary>
    public static int FreePort()
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(EphemeralStart - 12_000, EphemeralStart);
            try
            {
                using var probe = new TcpListener(System.Net.IPAddress.Loopback, port);
                probe.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: another.
            }
        }

        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The first port of the OS's ephemeral range (Linux: <c>ip_local_port_range</c>, 32768 by default).</summary>
    static int EphemeralStart { get; } = File.Exists("/proc/sys/net/ipv4/ip_local_port_range")
        && int.TryParse(File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0], out var start)
        && start > 16_000
            ? start
            : 32_768;

    async Task WaitUntilReadyAsync(Uri url, string? caCertificateFile, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(TrustedHttp.CreateHandler(caCertificateFile)) { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} while starting. Its log, {LogFile}:\n{Tail()}");
            }

            try
            {
                using var response = await http.GetAsync(url, cancellationToken);
                return;
            }
            catch (Exception e) when (e is HttpRequestException or SocketException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(200, cancellationToken);
            }
        }

        throw new TimeoutException($"{Name} did not answer at {url} within 60 s. Its log, {LogFile}:\n{Tail()}");
    }

    /// <summary>The last lines of the log, for error messages.</summary>
    public string Tail(int lines = 40)
    {
        try
        {
            using var reader = new StreamReader(new FileStream(LogFile, FileMode.Open, FileAccess.Read, FileShare.ReadWrite));
            var all = reader.ReadToEnd().Split('\n');
            return string.Join('\n', all.TakeLast(lines));
        }
        catch (IOException)
        {
            return "(log unreadable)";
        }
    }

    static void Write(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // Output after shutdown: nobody reads it.
            }
        }
    }

    /// <summary>Stops the process as an orchestrator does: SIGTERM, time to shut down cleanly (Azurite saves its metadata), then SIGKILL.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                using (var term = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                {
                    await term.WaitForExitAsync();
                }

                using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await _process.WaitForExitAsync(grace.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync();
                }
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            lock (_log)
            {
                _log.Dispose();
            }

            _process.Dispose();
        }
    }
}
