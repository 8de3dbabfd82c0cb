using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CloudStore.Contracts;
using CloudStore.Player.Data;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace CloudStore.Player.Session;

/// <summary>A short-lived access token handed to the browser.</summary>
public sealed record BrowserToken(string AccessToken, DateTimeOffset ExpiresAt);

/// <summary>
/// Signed-in sessions, kept by the player's server in its database (<see cref="PlayerDbContext"/>), which every
/// player instance shares. The browser holds only an opaque session id in an HttpOnly cookie; the refresh token stays
/// here, sealed, and is rotated by one request at a time per session across all instances (the API treats a reused
/// refresh token as theft and ends the session). Access tokens — short-lived, one per audience — are what the browser
/// may have.
/// </summary>
public sealed class PlayerSessions(
    PlayerDbContext db, FunctionsApi api, IDataProtectionProvider protection, IOptions<PlayerOptions> options, TimeProvider time, ILogger<PlayerSessions> logger)
{
    /// <summary>A cached access token is handed out while it has at least this long to live.</summary>
    static readonly TimeSpan MinimumRemaining = TimeSpan.FromMinutes(2);

    /// <summary>How long a refresh may hold the session; the call to the API is cut off well before.</summary>
    static readonly TimeSpan RefreshLease = TimeSpan.FromSeconds(30);

    static readonly TimeSpan RefreshCallTimeout = TimeSpan.FromSeconds(20);

    /// <summary>How often a request waiting for another's refresh looks again.</summary>
    static readonly TimeSpan WaitStep = TimeSpan.FromMilliseconds(50);

    /// <summary>Last use is written at most this often per session, not on every request.</summary>
    static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    readonly IDataProtector _seal = protection.CreateProtector("CloudStore.Player.Session.Tokens.v1");

    /// <summary>Starts a session from the tokens the sign-in gave (an API access token and a refresh token).</summary>
    /// <returns>The new session's id, for the cookie.</returns>
    public async Task<string> StartAsync(TokenResponse tokens, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tokens.RefreshToken);
        var now = time.GetUtcNow();
        var idleSince = now - options.Value.SessionIdleTimeout;
        await db.Sessions.Where(s => s.LastUsed < idleSince).ExecuteDeleteAsync(cancellationToken);

        var id = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        db.Sessions.Add(new StoredSession
        {
            IdHash = Hash(id),
            RefreshToken = _seal.Protect(tokens.RefreshToken),
            AccessTokens = Seal(new Dictionary<string, BrowserToken>(StringComparer.Ordinal)
            {
                [tokens.Audience] = new BrowserToken(tokens.AccessToken, now.AddSeconds(tokens.ExpiresIn)),
            }),
            LastUsed = now,
        });
        await db.SaveChangesAsync(cancellationToken);
        return id;
    }

    public async Task<bool> IsActiveAsync(string? id, CancellationToken cancellationToken) =>
        id is not null && await FindLiveAsync(Hash(id), cancellationToken) is not null;

    /// <summary>An access token for <paramref name="audience"/>: the cached one, or a new one from a refresh.</summary>
    /// <returns>Null when the session is over (signed out, expired, or revoked by the API).</returns>
    public async Task<BrowserToken?> AccessTokenAsync(string? id, string audience, CancellationToken cancellationToken)
    {
        if (id is null)
        {
            return null;
        }

        var hash = Hash(id);
        while (true)
        {
            var session = await FindLiveAsync(hash, cancellationToken);
            if (session is null)
            {
                return null;
            }

            var now = time.GetUtcNow();
            var tokens = Unseal(session.AccessTokens);
            if (tokens.TryGetValue(audience, out var cached) && cached.ExpiresAt - now > MinimumRemaining)
            {
                if (now - session.LastUsed >= LastUsedResolution)
                {
                    await db.Sessions.Where(s => s.IdHash == hash).ExecuteUpdateAsync(set => set.SetProperty(s => s.LastUsed, now), cancellationToken);
                }

                return cached;
            }

            if (session.RefreshingUntil > now)
            {
                // Another request, here or on another instance, is rotating the refresh token: wait for its result.
                await Task.Delay(WaitStep, time, cancellationToken);
                continue;
            }

            var claimed = session.Version + 1;
            var leaseEnd = now + RefreshLease;
            if (await db.Sessions.Where(s => s.IdHash == hash && s.Version == session.Version)
                    .ExecuteUpdateAsync(set => set.SetProperty(s => s.RefreshingUntil, leaseEnd).SetProperty(s => s.Version, claimed), cancellationToken) == 0)
            {
                continue; // Changed under this request: read again.
            }

            return await RefreshAsync(hash, session, claimed, tokens, audience, cancellationToken);
        }
    }

    async Task<BrowserToken?> RefreshAsync(
        string hash, StoredSession session, long claimed, Dictionary<string, BrowserToken> tokens, string audience, CancellationToken cancellationToken)
    {
        ApiResult<TokenResponse> refreshed;
        try
        {
            using var callTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            callTimeout.CancelAfter(RefreshCallTimeout);
            refreshed = await api.RefreshAsync(_seal.Unprotect(session.RefreshToken), audience, callTimeout.Token);
        }
        catch
        {
            // Whether the API rotated the token is unknown; the next refresh finds out (a stale token ends the session).
            await db.Sessions.Where(s => s.IdHash == hash && s.Version == claimed)
                .ExecuteUpdateAsync(set => set.SetProperty(s => s.RefreshingUntil, DateTimeOffset.UnixEpoch), CancellationToken.None);
            throw;
        }

        if (refreshed.Value is not { RefreshToken: { } next } fresh)
        {
            SessionLog.EndedByApi(logger, refreshed.Status);
            await db.Sessions.Where(s => s.IdHash == hash).ExecuteDeleteAsync(CancellationToken.None);
            return null;
        }

        var now = time.GetUtcNow();
        var token = new BrowserToken(fresh.AccessToken, now.AddSeconds(fresh.ExpiresIn));
        tokens[audience] = token;
        var sealedRefresh = _seal.Protect(next);
        var sealedTokens = Seal(tokens);
        await db.Sessions.Where(s => s.IdHash == hash && s.Version == claimed).ExecuteUpdateAsync(set => set
            .SetProperty(s => s.RefreshToken, sealedRefresh)
            .SetProperty(s => s.AccessTokens, sealedTokens)
            .SetProperty(s => s.RefreshingUntil, DateTimeOffset.UnixEpoch)
            .SetProperty(s => s.LastUsed, now)
            .SetProperty(s => s.Version, claimed + 1), CancellationToken.None);
        return token;
    }

    /// <summary>Ends a session here and at the API (its refresh tokens are revoked).</summary>
    public async Task EndAsync(string id, CancellationToken cancellationToken)
    {
        var hash = Hash(id);
        var session = await db.Sessions.AsNoTracking().SingleOrDefaultAsync(s => s.IdHash == hash, cancellationToken);
        if (session is not null && await db.Sessions.Where(s => s.IdHash == hash).ExecuteDeleteAsync(cancellationToken) > 0)
        {
            await api.RevokeAsync(_seal.Unprotect(session.RefreshToken), cancellationToken);
        }
    }

    async Task<StoredSession?> FindLiveAsync(string hash, CancellationToken cancellationToken)
    {
        var session = await db.Sessions.AsNoTracking().SingleOrDefaultAsync(s => s.IdHash == hash, cancellationToken);
        return session is not null && time.GetUtcNow() - session.LastUsed <= options.Value.SessionIdleTimeout ? session : null;
    }

    static string Hash(string id) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(id)));

    string Seal(Dictionary<string, BrowserToken> tokens) => _seal.Protect(JsonSerializer.Serialize(tokens));

    Dictionary<string, BrowserToken> Unseal(string sealedTokens) =>
        new(JsonSerializer.Deserialize<Dictionary<string, BrowserToken>>(_seal.Unprotect(sealedTokens)) ?? [], StringComparer.Ordinal);
}
