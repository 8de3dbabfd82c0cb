using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using CloudStore.Contracts;
using CloudStore.LocalStack;
using Npgsql;
using NpgsqlTypes;

namespace CloudStore.Bench;

/// <summary>
/// Index ingest: segments indexed per second through the API (<c>POST /api/segments</c>, the whole request: TLS, device
/// token, organisation and device checks, the camera's look-up, the storage size check of every new object, the index's
/// checks and insert) by many cameras at once, against raw batched INSERTs of the same rows into the same table of the same
/// PostgreSQL database, in the same run: one multi-row <c>INSERT … VALUES (…), (…)</c> statement per batch through Npgsql,
/// as many connections as there are cameras, each statement its own transaction as each API call is (see
/// <see cref="RawInsertAsync"/>). Beside them, binary <c>COPY</c> of all rows on one connection: what the table takes at most.
/// <para>
/// Both sides run closed loops: each camera (or connection) sends its next batch when the last one is answered. Batches of
/// one segment are what a camera sends while it keeps up (one call per 4-second segment); batches of 200 are what it sends
/// while it catches up after an outage (<c>UploaderOptions.IndexBatchSize</c>). The objects are uploaded to N. Virginia
/// (the S3 server) before the clock starts, since the index checks each one's size in storage.
/// </para>
/// </summary>
public static class IndexIngestBench
{
    /// <summary>N. Virginia: the local S3 server, whose size checks cost the same however many objects it holds (Azurite's do not: see <see cref="CamerasBench"/>).</summary>
    const string Region = Regions.UsVirginia;

    /// <summary>Cameras indexing at once, each its own device (and, on the raw side, connections inserting at once).</summary>
    const int Callers = 32;

    /// <summary>Each run's batch size and how many segments each camera indexes in it.</summary>
    static readonly (int BatchSize, int PerCamera)[] Runs = [(1, 100), (200, 600)];

    /// <summary>The stored objects' size: the index reads only their size, so they are kept small to upload quickly.</summary>
    static readonly byte[] ObjectPlaintext = new byte[1000];

    /// <summary>The target: the API indexes at least this fraction of what raw INSERTs take.</summary>
    const double Target = 0.3;

    public static async Task RunAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(30));
        var cancellationToken = timeout.Token;
        var state = BenchState.CreateFolder("cloudstore-bench-ingest-");
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
                Timeout = TimeSpan.FromSeconds(120),
            };
            using var storageHttp = new HttpClient(new TimingHandler(log, TrustedHttp.CreateHandler(stack.Certificates.CaCertificate))) { Timeout = TimeSpan.FromSeconds(60) };
            using var fleet = new BenchFleet(stack, deviceApi, Region);
            await fleet.GrowToAsync(Callers, cancellationToken);
            var cameras = fleet.Cameras.Select(c => new SimulatedCamera(c, storageHttp, log, TimeProvider.System)).ToArray();
            try
            {
                var uploading = Stopwatch.StartNew();
                var uploads = await UploadAsync(cameras, cancellationToken);
                var total = uploads.Sum(run => run.Sum(c => c.Count));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  Index ingest: {Callers} cameras (devices) calling POST /api/segments at once, closed loop, against raw multi-row INSERTs of the same rows into the same table ({total:N0} objects uploaded to the S3 server first, in {uploading.Elapsed.TotalSeconds:F0} s)"));
                Console.WriteLine("    batch   segments | API seg/s  p50/p99 ms  errors | raw INSERT seg/s  p50/p99 ms | API ÷ raw | API per segment: functions  postgres  storage CPU ms, SQL statements | raw: postgres CPU ms | machine busy API/raw");
                var index = stack.IndexConnection(Region).ConnectionString;
                for (var r = 0; r < Runs.Length; r++)
                {
                    var batchSize = Runs[r].BatchSize;
                    var api = await ApiAsync(cameras, uploads[r], batchSize, processes, statements, log, cancellationToken);
                    var raw = await RawInsertAsync(index, fleet, uploads[r], batchSize, processes, cancellationToken);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"    {batchSize,5} {api.Rows,10:N0} | {api.Rate,9:N0} {api.Latency.Text,11} {api.Errors,7} | {raw.Rate,16:N0} {raw.Latency.Text,11} | {api.Rate / raw.Rate,8:F3}x | {api.PerRow(api.Cpu.Functions),19:F3} {api.PerRow(api.Cpu.Postgres),9:F3} {api.PerRow(api.Cpu.Storage),8:F3}      {api.Statements / (double)api.Rows,14:F1} | {raw.PerRow(raw.Cpu.Postgres),10:F3} | {api.Cpu.Machine,7:F0}% {raw.Cpu.Machine,3:F0}%"));
                }

                var copy = await CopyAsync(index, fleet, [.. uploads.SelectMany(run => run)], cancellationToken);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"    binary COPY of the same {total:N0} rows on one connection: {total / copy.TotalSeconds:N0} rows/s. Target: API >= {Target:F1}x raw INSERT."));
                await BreakdownAsync(stack, fleet, processes, cancellationToken);
            }
            finally
            {
                foreach (var camera in cameras)
                {
                    camera.Dispose();
                }
            }
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    /// <summary>One run: rows (segments) stored, their rate, each call's latency, failed calls, CPU and statements meanwhile.</summary>
    sealed record RunResult(int Rows, double Seconds, Latencies Latency, int Errors, ServerCpu Cpu, long Statements)
    {
        public double Rate => Rows / Seconds;

        /// <summary>A process's CPU (<paramref name="percent"/> of one core over the run) per row, in ms.</summary>
        public double PerRow(double percent) => percent * Seconds * 10 / Rows;
    }

    /// <summary>
    /// Each camera stores its data key and init segment and indexes them with a first segment (so that every run indexes
    /// segments only), then uploads each run's segments, one after another, all cameras at once.
    /// </summary>
    static async Task<List<SegmentMetadata>[][]> UploadAsync(SimulatedCamera[] cameras, CancellationToken cancellationToken)
    {
        var recorded = TimeProvider.System.GetUtcNow().AddDays(-1);
        await Task.WhenAll(cameras.Select(async camera =>
            await camera.IndexAsync([await camera.UploadSegmentAsync(recorded, ObjectPlaintext, cancellationToken)], cancellationToken)));
        var uploads = new List<SegmentMetadata>[Runs.Length][];
        for (var r = 0; r < Runs.Length; r++)
        {
            var (perCamera, runStart) = (Runs[r].PerCamera, recorded.AddHours(r + 1));
            uploads[r] = await Task.WhenAll(cameras.Select(async camera =>
            {
                var segments = new List<SegmentMetadata>(perCamera);
                for (var i = 0; i < perCamera; i++)
                {
                    segments.Add(await camera.UploadSegmentAsync(runStart + (i * SimulatedCamera.SegmentLength), ObjectPlaintext, cancellationToken));
                }

                return segments;
            }));
        }

        return uploads;
    }

    /// <summary>Each camera indexes its uploaded segments in batches of <paramref name="batchSize"/>, all cameras at once.</summary>
    static async Task<RunResult> ApiAsync(SimulatedCamera[] cameras, List<SegmentMetadata>[] uploaded, int batchSize,
        ServerProcesses processes, StatementStatistics statements, CallLog log, CancellationToken cancellationToken)
    {
        await statements.ResetAsync(cancellationToken);
        log.Drain();
        var before = processes.Read();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(cameras.Select((camera, i) => Task.Run(async () =>
        {
            foreach (var batch in uploaded[i].Chunk(batchSize))
            {
                try
                {
                    await camera.IndexAsync(batch, cancellationToken);
                }
                catch (Device.DeviceRequestRefusedException)
                {
                    // Counted from the call log below; the camera goes on with its next batch.
                }
            }
        }, cancellationToken)));
        var elapsed = clock.Elapsed;
        var cpu = processes.Read() - before;
        var sql = await statements.ReadAsync(cancellationToken);
        var calls = log.Drain().Where(c => c.Kind == CallKind.Index).ToList();
        return new RunResult(uploaded.Sum(u => u.Count), elapsed.TotalSeconds, Latencies.Of(calls.Where(c => c.Succeeded).Select(c => c.Milliseconds)),
            calls.Count(c => !c.Succeeded), cpu, sql.Calls);
    }

    const string Columns = "\"OrganizationId\", \"CameraId\", \"Sequence\", \"StartTime\", \"DurationMs\", \"ObjectName\", \"Size\", \"Sha256\", \"KeyId\", \"Iv\", \"InitObjectName\", \"Codec\", \"Width\", \"Height\", \"IndexedAt\"";
    const int ColumnCount = 15;

    /// <summary>
    /// The same rows straight into the index's <c>Segments</c> table: one multi-row INSERT per batch, one connection per
    /// camera (opened before the clock starts, as the API's pools are warm), in parallel. Each camera's rows get a
    /// stand-in camera id, as the API has already stored the originals (the unique index on camera and sequence would refuse
    /// them); everything else is the same. The rows go in <see cref="RawRounds"/> times over, each time with new stand-ins,
    /// so the run lasts long enough to time and to read CPU (in 10 ms ticks) from.
    /// </summary>
    static async Task<RunResult> RawInsertAsync(string connectionString, BenchFleet fleet, List<SegmentMetadata>[] uploaded, int batchSize,
        ServerProcesses processes, CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        var connections = await Task.WhenAll(uploaded.Select(_ => dataSource.OpenConnectionAsync(cancellationToken).AsTask()));
        var latencies = new ConcurrentBag<double>();
        try
        {
            var before = processes.Read();
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(uploaded.Select((segments, i) => Task.Run(async () =>
            {
                var organization = fleet.Cameras[i].Identity.OrganizationId;
                for (var round = 0; round < RawRounds; round++)
                {
                    var standIn = Guid.NewGuid();
                    foreach (var batch in segments.Chunk(batchSize))
                    {
                        var started = Stopwatch.GetTimestamp();
                        await using var insert = new NpgsqlCommand(InsertSql(batch.Length), connections[i]);
                        foreach (var segment in batch)
                        {
                            AddRow(insert.Parameters, organization, standIn, segment);
                        }

                        await insert.ExecuteNonQueryAsync(cancellationToken);
                        latencies.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                }
            }, cancellationToken)));
            var elapsed = clock.Elapsed;
            return new RunResult(RawRounds * uploaded.Sum(u => u.Count), elapsed.TotalSeconds, Latencies.Of(latencies), 0, processes.Read() - before, 0);
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>How many times the raw INSERTs store each camera's rows (under new stand-in camera ids each time).</summary>
    const int RawRounds = 5;

    /// <summary><c>INSERT INTO "Segments" (…) VALUES ($1, …, $15), ($16, …)</c> for <paramref name="rows"/> rows.</summary>
    static string InsertSql(int rows) => $"INSERT INTO \"Segments\" ({Columns}) VALUES " + string.Join(", ", Enumerable.Range(0, rows).Select(row =>
        "(" + string.Join(", ", Enumerable.Range(1, ColumnCount).Select(column => "$" + ((row * ColumnCount) + column).ToString(CultureInfo.InvariantCulture))) + ")"));

    /// <summary>The row's values as EF stores them: times as Unix milliseconds, digests and IVs as bytes.</summary>
    static void AddRow(NpgsqlParameterCollection parameters, Guid organization, Guid camera, SegmentMetadata segment)
    {
        parameters.Add(new NpgsqlParameter<Guid> { TypedValue = organization });
        parameters.Add(new NpgsqlParameter<Guid> { TypedValue = camera });
        parameters.Add(new NpgsqlParameter<long> { TypedValue = segment.Sequence });
        parameters.Add(new NpgsqlParameter<long> { TypedValue = segment.StartTime.ToUnixTimeMilliseconds() });
        parameters.Add(new NpgsqlParameter<int> { TypedValue = segment.DurationMs });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = segment.Media.ObjectName });
        parameters.Add(new NpgsqlParameter<long> { TypedValue = segment.Media.Size });
        parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = Convert.FromHexString(segment.Media.Sha256) });
        parameters.Add(new NpgsqlParameter<Guid> { TypedValue = segment.Media.KeyId });
        parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = Convert.FromHexString(segment.Media.Iv) });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = segment.InitObjectName });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = segment.Codec });
        parameters.Add(new NpgsqlParameter<int> { TypedValue = segment.Width });
        parameters.Add(new NpgsqlParameter<int> { TypedValue = segment.Height });
        parameters.Add(new NpgsqlParameter<long> { TypedValue = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds() });
    }

    /// <summary>Every row once more (stand-in camera ids again) with binary COPY on one connection.</summary>
    static async Task<TimeSpan> CopyAsync(string connectionString, BenchFleet fleet, List<SegmentMetadata>[] uploaded, CancellationToken cancellationToken)
    {
        await using var dataSource = NpgsqlDataSource.Create(connectionString);
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var clock = Stopwatch.StartNew();
        await using (var copy = await connection.BeginBinaryImportAsync($"COPY \"Segments\" ({Columns}) FROM STDIN (FORMAT BINARY)", cancellationToken))
        {
            var now = TimeProvider.System.GetUtcNow().ToUnixTimeMilliseconds();
            for (var i = 0; i < uploaded.Length; i++)
            {
                var organization = fleet.Cameras[i % fleet.Cameras.Count].Identity.OrganizationId;
                var standIn = Guid.NewGuid();
                foreach (var segment in uploaded[i])
                {
                    await copy.StartRowAsync(cancellationToken);
                    await copy.WriteAsync(organization, NpgsqlDbType.Uuid, cancellationToken);
                    await copy.WriteAsync(standIn, NpgsqlDbType.Uuid, cancellationToken);
                    await copy.WriteAsync(segment.Sequence, NpgsqlDbType.Bigint, cancellationToken);
                    await copy.WriteAsync(segment.StartTime.ToUnixTimeMilliseconds(), NpgsqlDbType.Bigint, cancellationToken);
                    await copy.WriteAsync(segment.DurationMs, NpgsqlDbType.Integer, cancellationToken);
                    await copy.WriteAsync(segment.Media.ObjectName, NpgsqlDbType.Varchar, cancellationToken);
                    await copy.WriteAsync(segment.Media.Size, NpgsqlDbType.Bigint, cancellationToken);
                    await copy.WriteAsync(Convert.FromHexString(segment.Media.Sha256), NpgsqlDbType.Bytea, cancellationToken);
                    await copy.WriteAsync(segment.Media.KeyId, NpgsqlDbType.Uuid, cancellationToken);
                    await copy.WriteAsync(Convert.FromHexString(segment.Media.Iv), NpgsqlDbType.Bytea, cancellationToken);
                    await copy.WriteAsync(segment.InitObjectName, NpgsqlDbType.Varchar, cancellationToken);
                    await copy.WriteAsync(segment.Codec, NpgsqlDbType.Varchar, cancellationToken);
                    await copy.WriteAsync(segment.Width, NpgsqlDbType.Integer, cancellationToken);
                    await copy.WriteAsync(segment.Height, NpgsqlDbType.Integer, cancellationToken);
                    await copy.WriteAsync(now, NpgsqlDbType.Bigint, cancellationToken);
                }
            }

            await copy.CompleteAsync(cancellationToken);
        }

        return clock.Elapsed;
    }

    /// <summary>
    /// Where the functions host's CPU per call goes, as the key server's breakdown does it (16 callers, closed loop): an
    /// HTTPS request that stops at routing, then a device's authenticated request (token validation, the deleted-organisation
    /// gate, the active-device check and the endpoint's own two directory reads: <c>GET /api/devices/self</c>).
    /// </summary>
    static async Task BreakdownAsync(LocalCloud stack, BenchFleet fleet, ServerProcesses processes, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(TrustedHttp.CreateHandler(stack.Certificates.CaCertificate)) { BaseAddress = new Uri(stack.FunctionsUrl, "/api/") };
        var tokens = new List<string>();
        foreach (var camera in fleet.Cameras)
        {
            tokens.Add(await camera.Client.AccessTokenAsync(camera.Identity.DeviceId, camera.Identity.AssertionAudience, cancellationToken));
        }

        var https = await FunctionsCpuPerCallAsync(http, "no-such-path", null, HttpStatusCode.NotFound, processes, cancellationToken);
        var device = await FunctionsCpuPerCallAsync(http, "devices/self", tokens, HttpStatusCode.OK, processes, cancellationToken);
        Console.WriteLine("    Functions host CPU per call (16 callers):");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"      HTTPS request stopping at routing (no token, 404)                 {https.Functions:F3} ms  ({https.Rate:F0}/s)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"      device request: token, organisation gate, device check, 2 reads   {device.Functions:F3} ms  ({device.Rate:F0}/s; PostgreSQL {device.Postgres:F3} ms a call)"));
    }

    static async Task<(double Functions, double Postgres, double Rate)> FunctionsCpuPerCallAsync(
        HttpClient http, string path, List<string>? tokens, HttpStatusCode expected, ServerProcesses processes, CancellationToken cancellationToken)
    {
        const int Connections = 16;
        var measure = TimeSpan.FromSeconds(8);
        var calls = 0;
        var failures = 0;
        var recording = 0;
        var stop = 0;
        var loops = Enumerable.Range(0, Connections).Select(c => Task.Run(async () =>
        {
            for (var i = c; Volatile.Read(ref stop) == 0; i += Connections)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, path);
                if (tokens is not null)
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens[i % tokens.Count]);
                }

                using var response = await http.SendAsync(request, cancellationToken);
                await response.Content.ReadAsByteArrayAsync(cancellationToken);
                if (Volatile.Read(ref recording) == 1)
                {
                    Interlocked.Increment(ref response.StatusCode == expected ? ref calls : ref failures);
                }
            }
        }, cancellationToken)).ToArray();
        await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
        var before = processes.Read();
        Volatile.Write(ref recording, 1);
        var clock = Stopwatch.StartNew();
        await Task.Delay(measure, cancellationToken);
        Volatile.Write(ref recording, 0);
        var elapsed = clock.Elapsed;
        var cpu = processes.Read() - before;
        Volatile.Write(ref stop, 1);
        await Task.WhenAll(loops);
        if (failures > 0)
        {
            throw new InvalidOperationException($"{path}: {failures} answers other than {(int)expected}.");
        }

        return (cpu.Functions * elapsed.TotalSeconds * 10 / calls, cpu.Postgres * elapsed.TotalSeconds * 10 / calls, calls / elapsed.TotalSeconds);
    }
}
