using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace CloudStore.ControlPlane.Auth;

/// <summary>
/// Per-client brute-force limiter, as on the cameras: <see cref="AuthOptions.ClientFailureLimit"/>
/// failed sign-in attempts within <see cref="AuthOptions.ClientFailureWindow"/> block the client for
/// <see cref="AuthOptions.ClientBlockDuration"/>. Works with the per-account lockout, which stops a
/// slow attack on one account; this stops a fast attack on many.
/// </summary>
/// <remarks>In memory, per instance: a scaled-out deployment limits per instance.</remarks>
public sealed class SignInThrottle(IOptions<AuthOptions> options, TimeProvider time)
{
    readonly ConcurrentDictionary<string, ClientState> _clients = new(StringComparer.Ordinal);

    public bool IsBlocked(string client)
    {
        if (!_clients.TryGetValue(client, out var state))
        {
            return false;
        }

        lock (state)
        {
            return state.BlockedUntil > time.GetUtcNow();
        }
    }

    public void RecordFailure(string client)
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        var state = _clients.GetOrAdd(client, _ => new ClientState());
        lock (state)
        {
            while (state.Failures.Count > 0 && now - state.Failures.Peek() >= settings.ClientFailureWindow)
            {
                state.Failures.Dequeue();
            }

            state.Failures.Enqueue(now);
            if (state.Failures.Count >= settings.ClientFailureLimit)
            {
                state.BlockedUntil = now + settings.ClientBlockDuration;
                state.Failures.Clear();
            }
        }

        if (_clients.Count > 100_000)
        {
            Prune(now);
        }
    }

    void Prune(DateTimeOffset now)
    {
        foreach (var (client, state) in _clients)
        {
            lock (state)
            {
                if (state.BlockedUntil <= now && (state.Failures.Count == 0 || now - state.Failures.Peek() >= options.Value.ClientFailureWindow))
                {
                    _clients.TryRemove(client, out _);
                }
            }
        }
    }

    sealed class ClientState
    {
        public Queue<DateTimeOffset> Failures { get; } = new();

        public DateTimeOffset BlockedUntil { get; set; }
    }
}
