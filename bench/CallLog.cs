using System.Diagnostics;
using System.Globalization;

namespace CloudStore.Bench;

/// <summary>The calls a simulated camera makes, as the load generator tells them apart.</summary>
public enum CallKind
{
    /// <summary><c>POST /api/devices/token</c>: a signed assertion for a device token (every 9 minutes per camera).</summary>
    Token,

    /// <summary><c>POST /api/credentials</c>: an upload grant (at a camera's start, then at 80 % of the grant's life).</summary>
    Grant,

    /// <summary>A PUT to storage: a segment, and at a camera's start its wrapped key and init segment.</summary>
    Upload,

    /// <summary><c>POST /api/segments</c>: the index call after each upload.</summary>
    Index,

    /// <summary>Not a call: how late the generator began a segment after its due time (its own lag, not the service's).</summary>
    Lateness,
}

/// <summary>One call: its kind, when it started (<see cref="Stopwatch"/> ticks), how long it took and its HTTP status (0: no answer).</summary>
public readonly record struct CallSample(CallKind Kind, long Started, double Milliseconds, int Status)
{
    public bool Succeeded => Status is >= 200 and < 300;
}

/// <summary>Every call of the load generator, in order of completion. Thread-safe; a lock is cheap at a few thousand calls a second.</summary>
public sealed class CallLog
{
    readonly Lock _lock = new();
    List<CallSample> _samples = new(1 << 16);

    public void Add(CallSample sample)
    {
        lock (_lock)
        {
            _samples.Add(sample);
        }
    }

    /// <summary>The samples so far, which are forgotten: each measurement window drains what it needs.</summary>
    public List<CallSample> Drain()
    {
        lock (_lock)
        {
            var drained = _samples;
            _samples = new List<CallSample>(Math.Max(1 << 16, drained.Count));
            return drained;
        }
    }
}

/// <summary>
/// Times every request that passes through it and records it in a <see cref="CallLog"/>, by what the request is:
/// the device API's token, credentials and segments calls, and PUTs to storage. Sits under the clients the
/// simulated cameras use (the device library's <c>DeviceClient</c>, the Azure SDK's blob client), so they run unchanged.
/// </summary>
public sealed class TimingHandler(CallLog log, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var kind = KindOf(request);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (kind is { } known)
            {
                log.Add(new CallSample(known, started, Stopwatch.GetElapsedTime(started).TotalMilliseconds, (int)response.StatusCode));
            }

            return response;
        }
        catch when (kind is { } known)
        {
            log.Add(new CallSample(known, started, Stopwatch.GetElapsedTime(started).TotalMilliseconds, 0));
            throw;
        }
    }

    static CallKind? KindOf(HttpRequestMessage request)
    {
        var path = request.RequestUri?.AbsolutePath ?? "";
        if (request.Method == HttpMethod.Put)
        {
            return CallKind.Upload;
        }

        return request.Method == HttpMethod.Post
            ? path switch
            {
                _ when path.EndsWith("/api/devices/token", StringComparison.Ordinal) => CallKind.Token,
                _ when path.EndsWith("/api/credentials", StringComparison.Ordinal) => CallKind.Grant,
                _ when path.EndsWith("/api/segments", StringComparison.Ordinal) => CallKind.Index,
                _ => null,
            }
            : null;
    }
}

/// <summary>Latency percentiles of a set of calls, in milliseconds.</summary>
public sealed record Latencies(int Count, double P50, double P99, double Max)
{
    public static Latencies Of(IEnumerable<double> milliseconds)
    {
        var sorted = milliseconds.Order().ToArray();
        double At(double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
        return new Latencies(sorted.Length, At(0.50), At(0.99), sorted.Length == 0 ? double.NaN : sorted[^1]);
    }

    /// <summary><c>p50/p99</c>, or a dash when there were no calls.</summary>
    public string Text => Count == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{P50:F0}/{P99:F0}");
}
