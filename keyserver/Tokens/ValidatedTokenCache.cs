using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CloudStore.KeyServer.Tokens;

/// <summary>
/// The bearer-token handler of the key server: the framework's own (<c>JsonWebTokenHandler</c>, which checks
/// signature, issuer, audience, type, algorithm and lifetime), with its successful results kept for the next request
/// that carries the very same token. A player sends its key-server token with every key it asks for during the token's
/// life, and the signature check alone (ECDSA P-256, 0.04 ms) is a sixth of an unwrap's CPU.
/// <para>
/// Why it is safe (docs/SECURITY.md, "Validated tokens kept"): everything the validation decides is fixed by the token's
/// bytes, the validation settings (fixed at start-up) and the issuer's signing keys, except the lifetime, which depends on
/// the time. So an entry is found only by the SHA-256 of the exact token (a token changed in any byte is another key and
/// is validated in full), used only until the token's own <c>exp</c> (no clock skew added: stricter than validation),
/// and only while the signing keys are the ones it was validated with (the issuer's configuration object is the same
/// one; the framework makes a new one whenever it fetches the JWKS again). Only successes are kept; each hit gets its
/// own copy of the identity. Bounded: at <see cref="Capacity"/> the expired entries go, and if that is not enough, all.
/// </para>
/// </summary>
/// <param name="time">The clock the validation reads: the system's (JsonWebTokenHandler reads no other).</param>
public sealed class ValidatedTokenCache(TokenHandler inner, TimeProvider time) : TokenHandler
{
    /// <summary>Most tokens kept (about 2 KiB each): a key server's active players, many times over.</summary>
    public const int Capacity = 16_384;

    /// <summary>Longer tokens are validated every time (key-server tokens are under 1 KiB).</summary>
    const int MaxCachedTokenLength = 4096;

    readonly ConcurrentDictionary<TokenHash, Entry> _entries = new();

    sealed record Entry(ClaimsIdentity Identity, SecurityToken Token, DateTimeOffset Expires, BaseConfiguration Configuration);

    /// <summary>SHA-256 of the token's characters (ASCII): entries are found by it, and the token itself is not kept.</summary>
    readonly record struct TokenHash(UInt128 High, UInt128 Low)
    {
        public static TokenHash Of(string token)
        {
            Span<byte> bytes = stackalloc byte[token.Length];
            var length = Encoding.ASCII.GetBytes(token, bytes);
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(bytes[..length], hash);
            return new(BitConverter.ToUInt128(hash), BitConverter.ToUInt128(hash[16..]));
        }
    }

    public override async Task<TokenValidationResult> ValidateTokenAsync(string token, TokenValidationParameters validationParameters)
    {
        if (token.Length > MaxCachedTokenLength || !Ascii.IsValid(token) || validationParameters.ConfigurationManager is not { } issuer)
        {
            return await inner.ValidateTokenAsync(token, validationParameters);
        }

        // The configuration the framework would validate with now (fetched and kept by the manager; a new object after each fetch).
        var configuration = await issuer.GetBaseConfigurationAsync(CancellationToken.None);
        var key = TokenHash.Of(token);
        var now = time.GetUtcNow();
        if (_entries.TryGetValue(key, out var entry))
        {
            if (now < entry.Expires && ReferenceEquals(entry.Configuration, configuration))
            {
                return new TokenValidationResult { IsValid = true, ClaimsIdentity = entry.Identity.Clone(), SecurityToken = entry.Token };
            }

            _entries.TryRemove(new KeyValuePair<TokenHash, Entry>(key, entry));
        }

        var result = await inner.ValidateTokenAsync(token, validationParameters);
        // Not kept: a token in validation's clock-skew allowance past its exp, or validated while the keys changed.
        if (result is { IsValid: true, ClaimsIdentity: { } identity, SecurityToken: { } validated }
            && new DateTimeOffset(validated.ValidTo, TimeSpan.Zero) is var expires && expires > now
            && ReferenceEquals(configuration, await issuer.GetBaseConfigurationAsync(CancellationToken.None)))
        {
            Keep(key, new Entry(identity.Clone(), WithoutSignature(validated), expires, configuration), now);
        }

        return result;
    }

    /// <summary>The token's header and claims without its signature: nothing kept here is a bearer token that would be accepted.</summary>
    static SecurityToken WithoutSignature(SecurityToken token) => token is JsonWebToken jwt
        ? new JsonWebToken(Base64UrlEncoder.Decode(jwt.EncodedHeader), Base64UrlEncoder.Decode(jwt.EncodedPayload))
        : token;

    void Keep(TokenHash key, Entry entry, DateTimeOffset now)
    {
        if (_entries.Count >= Capacity)
        {
            foreach (var pair in _entries)
            {
                if (pair.Value.Expires <= now)
                {
                    _entries.TryRemove(pair);
                }
            }

            if (_entries.Count >= Capacity)
            {
                _entries.Clear();
            }
        }

        _entries[key] = entry;
    }
}
