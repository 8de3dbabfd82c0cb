using CloudStore.Contracts;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace CloudStore.KeyServer.Unwrap;

/// <summary>What a valid live grant allows: one data key of one camera, to one person of one organisation.</summary>
public sealed record LiveGrantClaims(string Subject, string Organization, Guid CameraId, Guid DataKeyId);

/// <summary>
/// Checks live grants (<see cref="LiveGrant"/>), which the functions put in a viewer's live playlist: signed by the
/// same issuer as the access tokens, with the same published keys (the bearer scheme's own configuration, so a
/// signing key rotation reaches both at once), but their own token type, so neither passes for the other.
/// </summary>
public sealed class LiveGrants(IOptionsMonitor<JwtBearerOptions> bearer)
{
    readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    /// <returns>The grant's claims, or null if it is not a valid, unexpired grant of this issuer.</returns>
    public async Task<LiveGrantClaims?> ValidateAsync(string grant, CancellationToken cancellationToken)
    {
        var options = bearer.Get(JwtBearerDefaults.AuthenticationScheme);
        if (options.ConfigurationManager is not { } configurations || grant.Length > 4096)
        {
            return null;
        }

        var configuration = await configurations.GetConfigurationAsync(cancellationToken);
        var parameters = options.TokenValidationParameters.Clone();
        parameters.ValidIssuer = configuration.Issuer;
        parameters.IssuerSigningKeys = configuration.SigningKeys;
        parameters.ValidAudience = Audiences.KeyServer;
        parameters.ValidTypes = [LiveGrant.TokenType];
        parameters.ClockSkew = TimeSpan.FromSeconds(5);
        var result = await _handler.ValidateTokenAsync(grant, parameters);
        if (!result.IsValid)
        {
            return null;
        }

        var claims = result.ClaimsIdentity;
        return claims.FindFirst(ClaimNames.Subject)?.Value is { Length: > 0 } subject
            && claims.FindFirst(ClaimNames.Organization)?.Value is { Length: > 0 } organization
            && Guid.TryParse(claims.FindFirst(LiveGrant.Camera)?.Value, out var camera)
            && Guid.TryParseExact(claims.FindFirst(LiveGrant.DataKey)?.Value, "N", out var dataKey)
                ? new LiveGrantClaims(subject, organization, camera, dataKey)
                : null;
    }
}
