using System.Diagnostics;
using System.Globalization;
using CloudStore.Contracts;
using CloudStore.LocalStack;

namespace CloudStore.Bench;

/// <summary>
/// Cameras per machine: how many cameras, each sending a 4-second segment, the control plane of one machine keeps up
/// with, on PostgreSQL as in production. The whole local stack runs here (functions host, key server, PostgreSQL, the
/// storage emulators and maildev), durable as the demo runs it (PostgreSQL with fsync), and so does the load generator:
/// <see cref="SimulatedCamera"/>s in this process, each a device of its own enrolled through the API
/// (<see cref="BenchFleet"/>), uploading to N. Virginia (the local S3 server, presigned PUTs).
/// <para>
/// Why not Azurite: it finds a blob by scanning every blob of the account (its LokiJS store narrows a look-up by the
/// account's index only, then filters the rest one by one), so each request costs more as a run stores objects; in the
/// ingest bench, with 22,400 objects stored, it spent 7–9 ms of CPU on a size check where the S3 server spent 0.7–0.9 ms.
/// A capacity figure on Azurite would measure the emulator's scan.
/// </para>
/// <para>
/// The number of cameras goes up in steps; cameras of earlier steps keep running. New cameras are switched on over a
/// ramp (<see cref="StartsPerSecond"/>), so their segments fall evenly over the 4 s, and each step measures for
/// <see cref="Measure"/> once every new camera has indexed its first segment and <see cref="Settle"/> more. Each step
/// reports segments indexed per second against those offered (cameras ÷ 4 s), p50/p99 latency of the index, upload,
/// grant and token calls, errors, and the CPU of each server process beside the whole machine's. The steps stop after
/// the first that misses: index p99 of <see cref="P99Limit"/> or more, errors, or cameras falling behind.
/// </para>
/// </summary>
public static class CamerasBench
{
    public static readonly int[] DefaultSteps = [100, 250, 500, 750, 1000, 1250, 1500, 2000, 2500, 3000];

    /// <summary>The issue's target: at least 1,000 cameras with the index call's p99 under this.</summary>
    public static readonly TimeSpan P99Limit = TimeSpan.FromMilliseconds(250);

    const string Region = Regions.UsVirginia;

    /// <summary>How many new cameras a second are switched on when a step adds them.</summary>
    const double StartsPerSecond = 50;

    /// <summary>After every new camera has indexed its first segment (grant, data key, init segment), this long before measuring.</summary>
    static readonly TimeSpan Settle = TimeSpan.FromSeconds(8);

    static readonly TimeSpan Measure = TimeSpan.FromSeconds(30);

    /// <summary>How far under the offered rate the indexed rate may be and still count as keeping up (a window's edges cut segments in flight).</summary>
    const double RateTolerance = 0.03;

    /// <param name="steps">Camera counts to measure, ascending; <see cref="DefaultSteps"/> when empty.</param>
    public static async Task RunAsync(IReadOnlyList<int> steps)
    {
        steps = steps.Count > 0 ? steps : DefaultSteps;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(90));
        var cancellationToken = timeout.Token;
        var state = BenchState.CreateFolder("cloudstore-bench-cameras-");
        try
        {
            await using var stack = await LocalCloud.StartAsync(new LocalCloudOptions(state, PersistentStorage: true)
            {
                Database = "postgresql",
                PostgresSettings = StatementStatistics.ServerSettings,
            }, cancellationToken);
            var processes = ServerProcesses.Of(stack);
            await using var statements = new StatementStatistics(stack.Postgres!);
            await statements.EnableAsync(cancellationToken);
            var log = new CallLog();
            using var deviceApi = new HttpClient(new TimingHandler(log, TrustedHttp.CreateHandler(stack.Certificates.CaCertificate)))
            {
                BaseAddress = new Uri(stack.FunctionsUrl, "/api/"),
                Timeout = TimeSpan.FromSeconds(60),
            };
            using var storageHttp = new HttpClient(new TimingHandler(log, TrustedHttp.CreateHandler(stack.Certificates.CaCertificate))) { Timeout = TimeSpan.FromSeconds(60) };
            using var fleet = new BenchFleet(stack, deviceApi, Region);

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  Cameras per machine: simulated cameras in this process, one {SimulatedCamera.SegmentLength.TotalSeconds:F0}-s segment each ({SimulatedCamera.SegmentBytes / 1024} KiB), {Region} (S3 server), PostgreSQL; new cameras switched on at {StartsPerSecond:F0}/s; each step measured for {Measure.TotalSeconds:F0} s once every new camera has indexed a segment, and {Settle.TotalSeconds:F0} s more."));
            Console.WriteLine("    latency p50/p99 in ms; grants and tokens (how many in brackets): the step's enrolment and warm-up, where its new cameras sign in and get their first grants, and the window; CPU in % of one core over the window, machine in % of all cores");
            Console.WriteLine("    cameras  offered/s  indexed/s  index p50/p99  upload p50/p99  grants p50/p99  tokens p50/p99  errors  late p99 | functions  postgres  storage  keyserver  bench  machine | SQL/index  new PG conns | enrolled  warm-up");

            using var stopping = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var running = new List<(SimulatedCamera Camera, Task Loop)>();
            Row? kept = null;
            Row? missed = null;
            try
            {
                foreach (var step in steps)
                {
                    var enrolling = Stopwatch.StartNew();
                    var added = await fleet.GrowToAsync(step, cancellationToken);
                    var enrolled = enrolling.Elapsed;
                    var warming = Stopwatch.StartNew();
                    var starting = StartCameras(added, storageHttp, log, running, stopping.Token);
                    await WarmUpAsync(starting, cancellationToken);
                    var warmUp = warming.Elapsed;

                    var setUp = log.Drain();
                    await statements.ResetAsync(cancellationToken);
                    var before = processes.Read();
                    var windowStart = Stopwatch.GetTimestamp();
                    await Task.Delay(Measure, cancellationToken);
                    var windowEnd = Stopwatch.GetTimestamp();
                    var cpu = processes.Read() - before;
                    var sql = await statements.ReadAsync(cancellationToken);
                    var row = Row.From(step, setUp, log.Drain(), windowStart, windowEnd, cpu, sql, enrolled, warmUp);
                    Console.WriteLine(row.Text);
                    if (!row.Keeps)
                    {
                        missed = row;
                        Console.WriteLine($"    {step:N0} cameras missed: {row.Why}");
                        Console.WriteLine("    Where PostgreSQL's time went in that window (pg_stat_statements, top 8 by total time):");
                        foreach (var line in sql.Top(8))
                        {
                            Console.WriteLine("      " + line);
                        }

                        break;
                    }

                    kept = row;
                }
            }
            finally
            {
                await stopping.CancelAsync();
                await Task.WhenAll(running.Select(r => r.Loop));
                running.ForEach(r => r.Camera.Dispose());
            }

            Summarise(kept, missed);
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    /// <summary>
    /// Switches <paramref name="added"/> cameras on at random moments over a ramp (at most <see cref="StartsPerSecond"/> a
    /// second, at least one segment length), as installers do, so that the steady load is spread evenly over the 4 s.
    /// </summary>
    static List<SimulatedCamera> StartCameras(IReadOnlyList<EnrolledCamera> added, HttpClient storageHttp, CallLog log,
        List<(SimulatedCamera Camera, Task Loop)> running, CancellationToken stopping)
    {
        var ramp = TimeSpan.FromSeconds(Math.Max(SimulatedCamera.SegmentLength.TotalSeconds, added.Count / StartsPerSecond));
        var starting = new List<SimulatedCamera>(added.Count);
        foreach (var enrolled in added)
        {
            var camera = new SimulatedCamera(enrolled, storageHttp, log, TimeProvider.System);
            var start = TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * ramp.TotalMilliseconds);
            running.Add((camera, Task.Run(() => camera.RunAsync(start, stopping), CancellationToken.None)));
            starting.Add(camera);
        }

        return starting;
    }

    /// <summary>Waits until every new camera has indexed its first segment (or failed one), then <see cref="Settle"/>.</summary>
    static async Task WarmUpAsync(List<SimulatedCamera> cameras, CancellationToken cancellationToken)
    {
        var waited = Stopwatch.StartNew();
        while (cameras.Any(c => c.Indexed + c.Failed == 0) && waited.Elapsed < TimeSpan.FromMinutes(3))
        {
            await Task.Delay(250, cancellationToken);
        }

        await Task.Delay(Settle, cancellationToken);
    }

    /// <summary>The sustained figure, and what a segment cost each process at the last step that kept up.</summary>
    static void Summarise(Row? kept, Row? missed)
    {
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    sustained: {(kept is { } k ? $"{k.Cameras:N0} cameras" : "none of the steps")} with index p99 < {P99Limit.TotalMilliseconds:F0} ms, no errors and every camera keeping up (target: >= 1,000){(missed is { } m ? $"; missed at {m.Cameras:N0}" : "; every step kept up")}"));
        if (kept is not { } last)
        {
            return;
        }

        // CPU per indexed segment at the last step that kept up, and how many cameras that CPU would allow if the machine
        // ran nothing else: an upper bound (no queueing), not a measurement.
        double PerSegment(double percent) => percent * 10 / last.Indexed;
        var functions = PerSegment(last.Cpu.Functions);
        var postgres = PerSegment(last.Cpu.Postgres);
        var storage = PerSegment(last.Cpu.Storage);
        var bench = PerSegment(last.Cpu.Bench);
        var all = functions + postgres + storage + bench;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    CPU per indexed segment at {last.Cameras:N0} cameras: functions {functions:F2} ms, PostgreSQL {postgres:F2} ms, storage emulator {storage:F2} ms, load generator {bench:F2} ms; {Environment.ProcessorCount} cores at 100 % for this stack alone: at most {Environment.ProcessorCount * 1000 / all * SimulatedCamera.SegmentLength.TotalSeconds:N0} cameras ({Environment.ProcessorCount * 1000 / (functions + postgres) * SimulatedCamera.SegmentLength.TotalSeconds:N0} for the functions host and PostgreSQL alone)"));
    }

    /// <summary>One step's figures.</summary>
    sealed record Row(
        int Cameras, double Offered, double Indexed, Latencies Index, Latencies Upload, Latencies Grant, Latencies Token,
        int Errors, string ErrorKinds, double LateP99, ServerCpu Cpu, double StatementsPerIndex, long Sessions, TimeSpan Enrolled, TimeSpan WarmUp)
    {
        /// <param name="setUp">Calls of the step's enrolment and warm-up: the new cameras' first tokens and grants, which a
        /// 30-s window would rarely see (a grant lasts 100 segments here, a token 9 minutes).</param>
        /// <param name="samples">Calls since then; those begun in the window count.</param>
        public static Row From(int cameras, List<CallSample> setUp, List<CallSample> samples, long windowStart, long windowEnd,
            ServerCpu cpu, StatementStatistics.Reading sql, TimeSpan enrolled, TimeSpan warmUp)
        {
            var window = samples.Where(s => s.Started >= windowStart && s.Started < windowEnd).ToList();
            var seconds = Stopwatch.GetElapsedTime(windowStart, windowEnd).TotalSeconds;
            Latencies Of(CallKind kind) => Latencies.Of(window.Where(s => s.Kind == kind && s.Succeeded).Select(s => s.Milliseconds));
            Latencies WithSetUp(CallKind kind) => Latencies.Of(setUp.Concat(window).Where(s => s.Kind == kind && s.Succeeded).Select(s => s.Milliseconds));
            var failed = setUp.Concat(window).Where(s => s.Kind != CallKind.Lateness && !s.Succeeded).ToList();
            var indexed = window.Count(s => s.Kind == CallKind.Index && s.Succeeded);
            return new Row(
                cameras, cameras / SimulatedCamera.SegmentLength.TotalSeconds, indexed / seconds,
                Of(CallKind.Index), Of(CallKind.Upload), WithSetUp(CallKind.Grant), WithSetUp(CallKind.Token),
                failed.Count,
                string.Join(", ", failed.GroupBy(s => (s.Kind, s.Status)).OrderByDescending(g => g.Count())
                    .Select(g => $"{g.Count()} {g.Key.Kind.ToString().ToLowerInvariant()} {(g.Key.Status == 0 ? "no answer" : g.Key.Status.ToString(CultureInfo.InvariantCulture))}")),
                Latencies.Of(window.Where(s => s.Kind == CallKind.Lateness).Select(s => s.Milliseconds)).P99,
                cpu, indexed == 0 ? double.NaN : sql.Calls / (double)indexed, sql.Sessions, enrolled, warmUp);
        }

        /// <summary>Index p99 under the limit, no errors, and the cameras keeping up.</summary>
        public bool Keeps => Index.P99 < P99Limit.TotalMilliseconds && Errors == 0 && KeepingUp;

        /// <summary>Segments indexed as fast as they are offered, and none begun a segment length or more after it was due.</summary>
        bool KeepingUp => Indexed >= (1 - RateTolerance) * Offered && LateP99 < SimulatedCamera.SegmentLength.TotalMilliseconds;

        public string Why => string.Join("; ", new[]
        {
            Index.P99 >= P99Limit.TotalMilliseconds ? string.Create(CultureInfo.InvariantCulture, $"index p99 {Index.P99:F0} ms passed {P99Limit.TotalMilliseconds:F0} ms") : null,
            Errors > 0 ? $"{Errors} failed calls ({ErrorKinds})" : null,
            KeepingUp ? null : string.Create(CultureInfo.InvariantCulture, $"falling behind: {Indexed:F1} segments/s indexed of {Offered:F1} offered, p99 {LateP99:F0} ms late"),
        }.Where(w => w is not null));

        public string Text => string.Create(CultureInfo.InvariantCulture,
            $"    {Cameras,7:N0} {Offered,10:F1} {Indexed,10:F1} {Index.Text,14} {Upload.Text,15} {Grant.Text + $" ({Grant.Count})",15} {Token.Text + $" ({Token.Count})",15} {Errors,7} {LateP99,9:F0} | {Cpu.Functions,8:F0}% {Cpu.Postgres,8:F0}% {Cpu.Storage,7:F0}% {Cpu.KeyServer,9:F0}% {Cpu.Bench,5:F0}% {Cpu.Machine,7:F0}% | {StatementsPerIndex,9:F1} {Sessions,13} | {Enrolled.TotalSeconds,6:F0} s {WarmUp.TotalSeconds,6:F0} s");
    }
}

/// <summary>CPU of the stack's server processes and of this one over a window, in % of one core; the machine's in % of all its cores.</summary>
public sealed record ServerCpu(double Functions, double Postgres, double Storage, double KeyServer, double Bench, double Machine);

/// <summary>The processes whose CPU a capacity figure depends on, read together.</summary>
public sealed class ServerProcesses
{
    readonly int _functions, _keyServer, _azurite, _s3, _postgres;

    ServerProcesses(int functions, int keyServer, int azurite, int s3, int postgres) =>
        (_functions, _keyServer, _azurite, _s3, _postgres) = (functions, keyServer, azurite, s3, postgres);

    public static ServerProcesses Of(LocalCloud stack) => new(
        stack.Hosts.Single(h => h.Name == "functions").Id, stack.Hosts.Single(h => h.Name == "keyserver").Id,
        stack.Azurite.ProcessId, stack.S3.ProcessId, stack.Postgres?.ProcessId ?? 0);

    /// <summary>CPU times now. Storage is both emulators together (Azurite and the S3 server), whichever the cameras use.</summary>
    public Snapshot Read() => new(Stopwatch.GetTimestamp(), Machine.ProcessCpu(_functions), _postgres == 0 ? TimeSpan.Zero : Machine.ProcessTreeCpu(_postgres),
        Machine.ProcessCpu(_azurite) + Machine.ProcessCpu(_s3), Machine.ProcessCpu(_keyServer), Machine.ProcessCpu(Environment.ProcessId), Machine.Ticks());

    /// <summary>CPU times so far; subtract two to get a window's <see cref="ServerCpu"/>.</summary>
    public sealed record Snapshot(long At, TimeSpan Functions, TimeSpan Postgres, TimeSpan Storage, TimeSpan KeyServer, TimeSpan Bench, (long Busy, long Total) Machine)
    {
        public static ServerCpu operator -(Snapshot after, Snapshot before)
        {
            var seconds = Stopwatch.GetElapsedTime(before.At, after.At).TotalSeconds;
            double Percent(TimeSpan a, TimeSpan b) => (a - b).TotalSeconds / seconds * 100;
            return new ServerCpu(
                Percent(after.Functions, before.Functions), Percent(after.Postgres, before.Postgres), Percent(after.Storage, before.Storage),
                Percent(after.KeyServer, before.KeyServer), Percent(after.Bench, before.Bench),
                (after.Machine.Busy - before.Machine.Busy) * 100.0 / Math.Max(1, after.Machine.Total - before.Machine.Total));
        }
    }
}
