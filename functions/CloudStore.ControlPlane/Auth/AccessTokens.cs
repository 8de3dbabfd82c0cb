using CloudStore.Contracts;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CloudStore.ControlPlane.Auth;

/// <summary>Signs short-lived, audience-scoped access tokens for people and devices.</summary>
public sealed class AccessTokens(SigningKeys keys, IOptions<AuthOptions> options, TimeProvider time)
{
    readonly JsonWebTokenHandler _handler = new() { SetDefaultTimesOnTokenCreation = false };

    /// <param name="authenticationMethods">RFC 8176 values, for example <c>pwd</c> and <c>otp</c>.</param>
    public TokenResponse ForUser(Guid userId, Guid organizationId, string role, string audience, IReadOnlyList<string> authenticationMethods, string? refreshToken)
    {
        var claims = new Dictionary<string, object>
        {
            [ClaimNames.Organization] = organizationId.ToString(),
            [ClaimNames.Role] = role,
            [ClaimNames.AuthenticationMethods] = authenticationMethods,
        };
        return Create(userId, audience, claims, options.Value.AccessTokenLifetime, refreshToken);
    }

    public TokenResponse ForDevice(Guid deviceId, Guid organizationId)
    {
        var claims = new Dictionary<string, object>
        {
            [ClaimNames.Organization] = organizationId.ToString(),
            [ClaimNames.Role] = Roles.Device,
        };
        return Create(deviceId, Audiences.Api, claims, options.Value.DeviceTokenLifetime, refreshToken: null);
    }

    /// <summary>The control plane's own token for calling the key server (public keys).</summary>
    public TokenResponse ForService()
    {
        var claims = new Dictionary<string, object> { [ClaimNames.Role] = Roles.Service };
        return Create(ServiceSubject, Audiences.KeyServer, claims, TimeSpan.FromMinutes(5), refreshToken: null);
    }

    /// <summary>The <c>sub</c> of the control plane's own tokens.</summary>
    public static readonly Guid ServiceSubject = new("00000000-0000-0000-0000-00000000f001");

    TokenResponse Create(Guid subject, string audience, Dictionary<string, object> claims, TimeSpan lifetime, string? refreshToken)
    {
        var now = time.GetUtcNow();
        claims[ClaimNames.Subject] = subject.ToString();
        claims[JwtRegisteredClaimNames.Jti] = Guid.NewGuid().ToString("N");
        var token = _handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = options.Value.Issuer,
            Audience = audience,
            Claims = claims,
            IssuedAt = now.UtcDateTime,
            NotBefore = now.UtcDateTime,
            Expires = (now + lifetime).UtcDateTime,
            SigningCredentials = keys.Credentials,
            TokenType = "at+jwt",
        });
        return new TokenResponse(token, "Bearer", (int)lifetime.TotalSeconds, refreshToken, audience);
    }
}
