using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using CloudStore.Contracts;
using CloudStore.Contracts.Envelope;
using CloudStore.ControlPlane.Auth;
using CloudStore.LocalStack;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace CloudStore.Bench;

/// <summary>
/// The key server under load, as the stack runs it: its own process over HTTPS (TLS 1.2/1.3, keep-alive),
/// validating ES256 tokens against the functions host's JWKS, with the production per-user limit in force.
/// Many distinct users (<see cref="Users"/>) share the load, so that limit (600 a minute each) is never what
/// is measured: 1,000 users allow 10,000 unwraps a second. Tokens are signed as the functions host signs them
/// (its <see cref="AccessTokens"/> with its signing key file), which saves a thousand sign-ins with TOTP and
/// is byte for byte what <c>/api/auth/token</c> returns.
/// <para>
/// Closed loop at each concurrency (each connection sends its next request when the last one answers), then
/// an open loop at half the best rate, where latency counts from when a request was due, so a stall is not
/// hidden by requests that were never sent; then closed loops over HTTP/2, which a browser's player uses. The
/// key server's CPU comes from <c>/proc/PID/stat</c>; the figure to compare with <c>openssl speed rsa2048</c> is
/// unwraps per CPU-second of the key server, since the load generator shares the machine's cores.
/// </para>
/// </summary>
public static class KeyServerBench
{
    const int Users = 1_000;
    const int Organizations = 8;
    const int KeysPerOrganization = 16;
    static readonly int[] Concurrency = [1, 8, 16, 32, 64];
    static readonly TimeSpan WarmUp = TimeSpan.FromSeconds(2);
    static readonly TimeSpan Measure = TimeSpan.FromSeconds(8);

    /// <summary>A light load, far from any limit: what an unwrap costs in latency without queueing.</summary>
    const double LightRate = 100;

    public static async Task RunAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        var cancellationToken = timeout.Token;
        var openssl = await OpensslSpeed.MeasureAsync(cancellationToken);
        var state = Directory.CreateTempSubdirectory("cloudstore-bench-keys-").FullName;
        try
        {
            await using var stack = await LocalCloud.StartAsync(new LocalCloudOptions(state, PersistentStorage: false), cancellationToken);
            var keyServer = stack.Hosts.Single(host => host.Name == "keyserver");
            var requests = await PrepareAsync(stack, state, cancellationToken);
            using var handler = TrustedHttp.CreateHandler(stack.Certificates.CaCertificate);
            handler.MaxConnectionsPerServer = Concurrency.Max();
            using var http = new HttpClient(handler) { BaseAddress = stack.KeyServerUrl, Timeout = TimeSpan.FromSeconds(30) };

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  Key server unwraps over HTTPS, {Users:N0} users of {Organizations} organisations, {Measure.TotalSeconds:F0} s per row, load generator in this process:"));
            Console.WriteLine("    connections   unwraps/s    p50 ms    p99 ms   server CPU   CPU/unwrap   unwraps per server CPU-s   vs openssl 1 core   errors   load generator CPU");
            Run? best = null;
            foreach (var connections in Concurrency)
            {
                var run = await ClosedLoopAsync([http], requests, connections, keyServer.Id, cancellationToken);
                Print(connections.ToString(CultureInfo.InvariantCulture), run, openssl);
                if (best is null || run.Rate > best.Rate)
                {
                    best = run;
                }
            }

            var light = await OpenLoopAsync(http, requests, LightRate, keyServer.Id, cancellationToken);
            Print(string.Create(CultureInfo.InvariantCulture, $"{LightRate:F0}/s"), light, openssl);
            var half = await OpenLoopAsync(http, requests, best!.Rate / 2, keyServer.Id, cancellationToken);
            Print(string.Create(CultureInfo.InvariantCulture, $"{best.Rate / 2:F0}/s"), half, openssl);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    (last two rows: an open loop at {LightRate:F0}/s, the latency floor, and at half the best rate, p99 target < 10 ms; the generator sent them up to {light.GeneratorLateP99:F1} and {half.GeneratorLateP99:F1} ms late (p99), not counted. openssl speed rsa2048 in this run: {openssl.OneCore:N0} sign/s on one core ({1000 / openssl.OneCore:F2} ms), {openssl.AllCores:N0}/s on {Environment.ProcessorCount})"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    machine load while measuring: {MachineLoad()}"));
            await Http2Async(stack, requests, keyServer.Id, openssl, cancellationToken);
            await BreakdownAsync(http, requests, keyServer.Id, openssl, cancellationToken);
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    /// <summary>
    /// The same closed loops over HTTP/2, the protocol a browser's player uses against the key server (Kestrel offers
    /// h2 by ALPN, and Chromium takes it): a player's key requests share its one connection, so each connection here
    /// carries four requests at a time, as a player fetching a few keys ahead would.
    /// </summary>
    static async Task Http2Async(LocalCloud stack, BenchRequest[] requests, int serverProcess, OpensslSpeed openssl, CancellationToken cancellationToken)
    {
        const int StreamsPerConnection = 4;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    HTTP/2, as a browser asks (ALPN h2), {StreamsPerConnection} requests at a time on each connection:"));
        foreach (var streams in (int[])[16, 64])
        {
            var clients = Enumerable.Range(0, streams / StreamsPerConnection).Select(_ => new HttpClient(TrustedHttp.CreateHandler(stack.Certificates.CaCertificate))
            {
                BaseAddress = stack.KeyServerUrl,
                Timeout = TimeSpan.FromSeconds(30),
                DefaultRequestVersion = HttpVersion.Version20,
                DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            }).ToArray();
            try
            {
                var run = await ClosedLoopAsync(clients, requests, streams, serverProcess, cancellationToken);
                Print(string.Create(CultureInfo.InvariantCulture, $"{streams} on {clients.Length}"), run, openssl);
            }
            finally
            {
                Array.ForEach(clients, client => client.Dispose());
            }
        }
    }

    /// <summary>
    /// Where the key server's CPU per request goes, layer by layer, at 16 connections: an HTTPS request that
    /// stops at routing (no token: 404), one that validates a token (<c>/v1/caller</c>), and the unwrap
    /// (rate limit, RSA, audit); beside it the RSA-OAEP decryption alone, in this process.
    /// </summary>
    static async Task BreakdownAsync(HttpClient http, BenchRequest[] unwraps, int serverProcess, OpensslSpeed openssl, CancellationToken cancellationToken)
    {
        const int Connections = 16;
        BenchRequest[] plain = [new("/no-such-path", null, HttpStatusCode.NotFound, ExpectedLength: null)];
        var caller = unwraps.Select(request => request with { Path = "/v1/caller", ExpectedLength = null }).ToArray();
        var https = await ClosedLoopAsync([http], plain, Connections, serverProcess, cancellationToken);
        var token = await ClosedLoopAsync([http], caller, Connections, serverProcess, cancellationToken);
        var unwrap = await ClosedLoopAsync([http], unwraps, Connections, serverProcess, cancellationToken);
        double CpuPerRequest(Run run) => run.ServerCpu.TotalMilliseconds / Math.Max(1, run.Unwraps);
        Console.WriteLine("    Where the key server's CPU per request goes (16 connections):");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"      HTTPS request stopping at routing (no token, 404)   {CpuPerRequest(https),6:F3} ms  ({https.Rate:F0}/s, p50 {https.P50:F1} ms, p99 {https.P99:F1} ms, {https.Errors} errors)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"      + ES256 token validation (/v1/caller)               {CpuPerRequest(token) - CpuPerRequest(https),6:F3} ms  ({token.Rate:F0}/s, p50 {token.P50:F1} ms, p99 {token.P99:F1} ms, {token.Errors} errors)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"      + unwrap: rate limit, key check, RSA, audit row      {CpuPerRequest(unwrap) - CpuPerRequest(token),6:F3} ms  ({unwrap.Rate:F0}/s, p50 {unwrap.P50:F1} ms, p99 {unwrap.P99:F1} ms, {unwrap.Errors} errors)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"      = unwrap over HTTPS                                  {CpuPerRequest(unwrap),6:F3} ms"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"      RSA-2048 OAEP-SHA256 decryption alone (.NET, CPU)    {RsaDecryptMilliseconds(),6:F3} ms   (openssl speed rsa2048 sign: {1000 / openssl.OneCore:F3} ms)"));
    }

    /// <summary>
    /// One private-key operation as the key store does it, on one thread: CPU time per operation (this process
    /// is otherwise idle now), as <c>openssl speed</c> divides by CPU time, so that other work on the machine
    /// does not count.
    /// </summary>
    static double RsaDecryptMilliseconds()
    {
        using var rsa = RSA.Create(2048);
        var wrapped = WrappedKey.Wrap(new BindingRecord(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), SegmentCipher.NewKey()), rsa, "eu-frankfurt/x/v1");
        for (var i = 0; i < 100; i++)
        {
            wrapped.Unwrap(rsa);
        }

        const int Operations = 3_000;
        using var self = Process.GetCurrentProcess();
        var cpu = self.TotalProcessorTime;
        for (var i = 0; i < Operations; i++)
        {
            wrapped.Unwrap(rsa);
        }

        self.Refresh();
        return (self.TotalProcessorTime - cpu).TotalMilliseconds / Operations;
    }

    static void Print(string label, Run run, OpensslSpeed openssl)
    {
        var perCpuSecond = run.Unwraps / run.ServerCpu.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"    {label,11} {run.Rate,11:F0} {run.P50,9:F2} {run.P99,9:F2} {run.ServerCpu.TotalSeconds / run.Elapsed.TotalSeconds * 100,10:F0} % {run.ServerCpu.TotalMilliseconds / run.Unwraps,9:F2} ms {perCpuSecond,26:F0} {perCpuSecond / openssl.OneCore,18:F2}x {run.Errors,8} {run.GeneratorCpu.TotalSeconds / run.Elapsed.TotalSeconds * 100,18:F0} %"));
    }

    /// <summary>What one measurement gives: successful unwraps, their latencies, and the key server's CPU time meanwhile.</summary>
    sealed record Run(int Unwraps, int Errors, TimeSpan Elapsed, TimeSpan ServerCpu, TimeSpan GeneratorCpu, double P50, double P99)
    {
        /// <summary>Open loop only: the 99th percentile of how late the load generator sent a request (ms).</summary>
        public double? GeneratorLateP99 { get; init; }

        public double Rate => Unwraps / Elapsed.TotalSeconds;
    }

    /// <summary>One prepared request and the answer it must get: for an unwrap, a user's token and a wrapped key of the user's organisation.</summary>
    sealed record BenchRequest(string Path, AuthenticationHeaderValue? Authorization, HttpStatusCode Expected = HttpStatusCode.OK, int? ExpectedLength = SegmentCipher.KeySize);

    /// <summary>Organisations with keys in Frankfurt, wrapped data keys under them, and operators' key-server tokens.</summary>
    static async Task<BenchRequest[]> PrepareAsync(LocalCloud stack, string state, CancellationToken cancellationToken)
    {
        using var http = new HttpClient(TrustedHttp.CreateHandler(stack.Certificates.CaCertificate));
        // The functions host makes its signing key on first use: ask for its JWKS before reading the file.
        (await http.GetAsync(new Uri(stack.Issuer + "/.well-known/jwks.json"), cancellationToken)).EnsureSuccessStatusCode();
        var auth = Options.Create(new AuthOptions
        {
            Issuer = stack.Issuer,
            SigningKeyFile = Path.Combine(state, "functions", "signing-key.pem"),
            AccessTokenLifetime = TimeSpan.FromMinutes(15),
        });
        using var signingKeys = new SigningKeys(auth);
        var tokens = new AccessTokens(signingKeys, auth, TimeProvider.System);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens.ForService().AccessToken);

        var wrapped = new List<string>[Organizations];
        var organizations = new Guid[Organizations];
        for (var o = 0; o < Organizations; o++)
        {
            organizations[o] = Guid.NewGuid();
            var publicKey = (await http.GetFromJsonAsync<PublicKeyResponse>(
                new Uri(stack.KeyServerUrl, $"/v1/organizations/{organizations[o]}/regions/{Regions.EuFrankfurt}/public-key"), cancellationToken))!;
            using var rsa = RSA.Create();
            rsa.ImportSubjectPublicKeyInfo(Convert.FromBase64String(publicKey.PublicKey), out _);
            wrapped[o] = [];
            for (var k = 0; k < KeysPerOrganization; k++)
            {
                var record = new BindingRecord(organizations[o], Guid.NewGuid(), Guid.NewGuid(), SegmentCipher.NewKey());
                var bytes = WrappedKey.Wrap(record, rsa, publicKey.KeyId).ToBytes();
                wrapped[o].Add($"/v1/keys/{record.DataKeyId:N}?wrapped={Base64UrlEncoder.Encode(bytes)}");
            }
        }

        return [.. Enumerable.Range(0, Users).Select(u =>
        {
            var organization = u % Organizations;
            var token = tokens.ForUser(Guid.NewGuid(), organizations[organization], Roles.Operator, Audiences.KeyServer, ["pwd", "otp"], refreshToken: null);
            return new BenchRequest(wrapped[organization][u / Organizations % KeysPerOrganization], new AuthenticationHeaderValue("Bearer", token.AccessToken));
        })];
    }

    /// <summary>
    /// <paramref name="connections"/> loops, each sending its next unwrap when the last one is answered; loop c sends
    /// through <c>clients[c % clients.Length]</c>.
    /// </summary>
    static async Task<Run> ClosedLoopAsync(HttpClient[] clients, BenchRequest[] requests, int connections, int serverProcess, CancellationToken cancellationToken)
    {
        var next = -1;
        var recording = 0;
        var stop = 0;
        var latencies = new List<double>[connections];
        var errors = new int[connections];
        var loops = Enumerable.Range(0, connections).Select(c => Task.Run(async () =>
        {
            latencies[c] = new List<double>(16_384);
            while (Volatile.Read(ref stop) == 0)
            {
                var started = Stopwatch.GetTimestamp();
                var ok = await SendAsync(clients[c % clients.Length], requests[(int)((uint)Interlocked.Increment(ref next) % (uint)requests.Length)], cancellationToken);
                if (Volatile.Read(ref recording) == 1)
                {
                    if (ok)
                    {
                        latencies[c].Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                    }
                    else
                    {
                        errors[c]++;
                    }
                }
            }
        }, cancellationToken)).ToArray();

        await Task.Delay(WarmUp, cancellationToken);
        var cpu = Machine.ProcessCpu(serverProcess);
        var generatorCpu = Machine.ProcessCpu(Environment.ProcessId);
        var watch = Stopwatch.StartNew();
        MachineLoad(reset: true);
        Volatile.Write(ref recording, 1);
        await Task.Delay(Measure, cancellationToken);
        Volatile.Write(ref recording, 0);
        var elapsed = watch.Elapsed;
        var serverCpu = Machine.ProcessCpu(serverProcess) - cpu;
        generatorCpu = Machine.ProcessCpu(Environment.ProcessId) - generatorCpu;
        Volatile.Write(ref stop, 1);
        await Task.WhenAll(loops);
        return Summarise([.. latencies.SelectMany(l => l)], errors.Sum(), elapsed, serverCpu, generatorCpu);
    }

    /// <summary>
    /// Requests sent on a fixed schedule (<paramref name="rate"/> a second) whatever the answers do, so a slow
    /// answer cannot hold back the requests after it. Each latency counts from when the request was handed to
    /// the client (waiting for a free connection included); how late this process's timer sent them, which is
    /// the load generator's own delay and not the key server's, is reported apart.
    /// </summary>
    static async Task<Run> OpenLoopAsync(HttpClient http, BenchRequest[] requests, double rate, int serverProcess, CancellationToken cancellationToken)
    {
        var total = (int)(rate * (WarmUp + Measure).TotalSeconds);
        var warmUpCount = (int)(rate * WarmUp.TotalSeconds);
        var latencies = new double[total];
        var late = new double[total];
        var failed = new bool[total];
        var pending = new List<Task>(total);
        var start = Stopwatch.GetTimestamp();
        var ticksPerRequest = Stopwatch.Frequency / rate;
        TimeSpan cpu = default, generatorCpu = default;
        long measureStart = 0;
        for (var i = 0; i < total; i++)
        {
            var due = start + (long)(i * ticksPerRequest);
            while (Stopwatch.GetTimestamp() < due)
            {
                await Task.Delay(1, cancellationToken);
            }

            if (i == warmUpCount)
            {
                cpu = Machine.ProcessCpu(serverProcess);
                generatorCpu = Machine.ProcessCpu(Environment.ProcessId);
                measureStart = Stopwatch.GetTimestamp();
                MachineLoad(reset: true);
            }

            var sent = Stopwatch.GetTimestamp();
            late[i] = Stopwatch.GetElapsedTime(due, sent).TotalMilliseconds;
            pending.Add(TimedAsync(i, sent));
        }

        var elapsed = Stopwatch.GetElapsedTime(measureStart);
        var serverCpu = Machine.ProcessCpu(serverProcess) - cpu;
        generatorCpu = Machine.ProcessCpu(Environment.ProcessId) - generatorCpu;
        await Task.WhenAll(pending);
        var measured = Enumerable.Range(warmUpCount, total - warmUpCount).ToArray();
        var lateness = measured.Select(i => late[i]).Order().ToArray();
        return Summarise([.. measured.Where(i => !failed[i]).Select(i => latencies[i])], measured.Count(i => failed[i]), elapsed, serverCpu, generatorCpu)
            with { GeneratorLateP99 = lateness[(int)(0.99 * lateness.Length)] };

        async Task TimedAsync(int index, long sent)
        {
            failed[index] = !await SendAsync(http, requests[index % requests.Length], cancellationToken);
            latencies[index] = Stopwatch.GetElapsedTime(sent).TotalMilliseconds;
        }
    }

    static async Task<bool> SendAsync(HttpClient http, BenchRequest request, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, request.Path) { Version = http.DefaultRequestVersion, VersionPolicy = http.DefaultVersionPolicy };
        message.Headers.Authorization = request.Authorization;
        try
        {
            using var response = await http.SendAsync(message, cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            return response.StatusCode == request.Expected && (request.ExpectedLength is null || body.Length == request.ExpectedLength);
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    static Run Summarise(double[] latencies, int errors, TimeSpan elapsed, TimeSpan serverCpu, TimeSpan generatorCpu)
    {
        Array.Sort(latencies);
        double Percentile(double p) => latencies.Length == 0 ? double.NaN : latencies[Math.Min(latencies.Length - 1, (int)(p * latencies.Length))];
        return new Run(latencies.Length, errors, elapsed, serverCpu, generatorCpu, Percentile(0.50), Percentile(0.99));
    }

    static (long Busy, long Total) _machineAtReset;

    /// <summary>How busy the whole machine was since the last reset (every process: other work on it makes figures noisy).</summary>
    static string MachineLoad(bool reset = false)
    {
        var now = Machine.Ticks();
        if (reset)
        {
            _machineAtReset = now;
            return "";
        }

        var busy = (now.Busy - _machineAtReset.Busy) / (double)Math.Max(1, now.Total - _machineAtReset.Total);
        return string.Create(CultureInfo.InvariantCulture, $"{busy * 100:F0} % of {Environment.ProcessorCount} cores busy in the last row (all processes)");
    }
}

/// <summary><c>openssl speed rsa2048</c> private-key operations (sign) per second, on one core and on all of them, measured now.</summary>
public sealed record OpensslSpeed(double OneCore, double AllCores)
{
    public static async Task<OpensslSpeed> MeasureAsync(CancellationToken cancellationToken) => new(
        await SignsPerSecondAsync(["speed", "-seconds", "3", "-mr", "rsa2048"], cancellationToken),
        await SignsPerSecondAsync(["speed", "-seconds", "3", "-mr", "-multi", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture), "rsa2048"], cancellationToken));

    /// <summary>The machine-readable summary line <c>+F2:count:bits:sign/s:verify/s</c>.</summary>
    static async Task<double> SignsPerSecondAsync(string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("openssl", arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("openssl did not start.");
        var errors = process.StandardError.ReadToEndAsync(cancellationToken);
        var output = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        await errors;
        var summary = output.Split('\n').Last(line => line.StartsWith("+F2:", StringComparison.Ordinal)).Split(':');
        return double.Parse(summary[3], CultureInfo.InvariantCulture);
    }
}
