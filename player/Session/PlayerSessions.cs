using System.Collections.Concurrent;
using System.Security.Cryptography;
using CloudStore.Contracts;
using Microsoft.Extensions.Options;

namespace CloudStore.Player.Session;

/// <summary>A short-lived access token handed to the browser.</summary>
public sealed record BrowserToken(string AccessToken, DateTimeOffset ExpiresAt);

/// <summary>
/// Signed-in sessions, held by the player's server. The browser holds only an opaque session id in an
/// HttpOnly cookie; the refresh token stays here and is rotated one call at a time per session (the
/// API treats a reused refresh token as theft and ends the session). Access tokens — short-lived, one
/// per audience — are what the browser may have.
/// </summary>
/// <remarks>
/// Sessions live in this process: a restart signs everyone out, and several player instances would need
/// a shared store (a distributed cache) in place of the dictionary.
/// </remarks>
public sealed class PlayerSessions(IServiceScopeFactory scopes, IOptions<PlayerOptions> options, TimeProvider time)
{
    /// <summary>A cached access token is handed out while it has at least this long to live.</summary>
    static readonly TimeSpan MinimumRemaining = TimeSpan.FromMinutes(2);

    readonly ConcurrentDictionary<string, SessionState> _sessions = new(StringComparer.Ordinal);

    sealed class SessionState(string refreshToken, DateTimeOffset lastUsed)
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public string RefreshToken { get; set; } = refreshToken;

        public DateTimeOffset LastUsed { get; set; } = lastUsed;

        public Dictionary<string, BrowserToken> Tokens { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>Starts a session from the tokens the sign-in gave (an API access token and a refresh token).</summary>
    /// <returns>The new session's id, for the cookie.</returns>
    public string Start(TokenResponse tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens.RefreshToken);
        var now = time.GetUtcNow();
        foreach (var (staleId, stale) in _sessions)
        {
            if (now - stale.LastUsed > options.Value.SessionIdleTimeout)
            {
                _sessions.TryRemove(staleId, out _);
            }
        }

        var id = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var session = new SessionState(tokens.RefreshToken, now);
        session.Tokens[tokens.Audience] = new BrowserToken(tokens.AccessToken, now.AddSeconds(tokens.ExpiresIn));
        _sessions[id] = session;
        return id;
    }

    public bool IsActive(string? id) =>
        id is not null && _sessions.TryGetValue(id, out var session) && time.GetUtcNow() - session.LastUsed <= options.Value.SessionIdleTimeout;

    /// <summary>An access token for <paramref name="audience"/>: the cached one, or a new one from a refresh.</summary>
    /// <returns>Null when the session is over (signed out, expired, or revoked by the API).</returns>
    public async Task<BrowserToken?> AccessTokenAsync(string? id, string audience, CancellationToken cancellationToken)
    {
        if (!IsActive(id) || !_sessions.TryGetValue(id!, out var session))
        {
            return null;
        }

        await session.Gate.WaitAsync(cancellationToken);
        try
        {
            var now = time.GetUtcNow();
            session.LastUsed = now;
            if (session.Tokens.TryGetValue(audience, out var cached) && cached.ExpiresAt - now > MinimumRemaining)
            {
                return cached;
            }

            await using var scope = scopes.CreateAsyncScope();
            var api = scope.ServiceProvider.GetRequiredService<FunctionsApi>();
            var refreshed = await api.RefreshAsync(session.RefreshToken, audience, cancellationToken);
            if (refreshed.Value is not { RefreshToken: { } next } tokens)
            {
                _sessions.TryRemove(id!, out _);
                return null;
            }

            session.RefreshToken = next;
            var token = new BrowserToken(tokens.AccessToken, now.AddSeconds(tokens.ExpiresIn));
            session.Tokens[audience] = token;
            return token;
        }
        finally
        {
            session.Gate.Release();
        }
    }

    /// <summary>Ends a session here and at the API (its refresh tokens are revoked).</summary>
    public async Task EndAsync(string id, CancellationToken cancellationToken)
    {
        if (_sessions.TryRemove(id, out var session))
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<FunctionsApi>().RevokeAsync(session.RefreshToken, cancellationToken);
        }
    }
}
