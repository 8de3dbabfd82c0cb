using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using CloudStore.LocalStack;

namespace CloudStore.Tests.Observability;

/// <summary>One request the receiver took: its path (<c>/v1/traces</c>, <c>/v1/logs</c>, <c>/v1/metrics</c> or any other) and body.</summary>
public sealed record ReceivedRequest(string Path, byte[] Body)
{
    /// <summary>Whether the body holds <paramref name="text"/> as UTF-8 (protobuf keeps strings as plain UTF-8 bytes).</summary>
    public bool Contains(string text) => Body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;
}

/// <summary>
/// A tiny HTTP endpoint on loopback that keeps every request's path and body and answers
/// <see cref="Answer"/>: an OTLP/HTTP receiver (POST /v1/traces, /v1/logs, /v1/metrics), or a stand-in
/// for another host's health URL. An <see cref="HttpListener"/> rather than Kestrel, so that its own
/// requests make no ASP.NET Core spans for an in-process host under test to export back to it.
/// </summary>
public sealed class LoopbackReceiver : IAsyncDisposable
{
    readonly HttpListener _listener = new();
    readonly ConcurrentQueue<ReceivedRequest> _requests = new();
    readonly Task _loop;

    LoopbackReceiver(int port)
    {
        Endpoint = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
        _listener.Prefixes.Add(Endpoint.ToString());
        _listener.Start();
        _loop = Task.Run(AcceptAsync);
    }

    /// <summary>The value for <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> (the exporter appends <c>/v1/{signal}</c>).</summary>
    public Uri Endpoint { get; }

    public IReadOnlyList<ReceivedRequest> Requests => [.. _requests];

    public static LoopbackReceiver Start() => new(ChildProcess.FreePort());

    /// <summary>The status every request gets from now on: 200, or e.g. 503 to play a dependency that is failing.</summary>
    public int Answer { get; set; } = 200;

    async Task AcceptAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            _requests.Enqueue(new ReceivedRequest(context.Request.Url?.AbsolutePath ?? "", body.ToArray()));
            context.Response.StatusCode = Answer;
            context.Response.Close();
        }
    }

    /// <summary>Waits until a request matching <paramref name="match"/> has come, failing loudly after <paramref name="seconds"/>.</summary>
    public async Task WaitForAsync(Func<ReceivedRequest, bool> match, string what, int seconds = 30)
    {
        var deadline = TimeProvider.System.GetUtcNow().AddSeconds(seconds);
        while (!_requests.Any(match))
        {
            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                throw new TimeoutException($"Waited {seconds} s for {what}; received: {string.Join(", ", _requests.Select(r => $"{r.Path} ({r.Body.Length} bytes)"))}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Stops listening: from then on, connections to the port are refused. Safe to call twice.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_listener.IsListening)
        {
            return;
        }

        _listener.Stop();
        _listener.Close();
        await _loop;
    }
}
