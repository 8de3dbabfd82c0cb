using System.Text.Json.Serialization;

namespace CloudStore.Contracts;

public sealed record SignInRequest(string Email, string Password);

/// <summary>Single sign-on: the ID token the player received from the organisation's identity provider.</summary>
public sealed record ExternalSignInRequest(string IdToken);

/// <summary>What a sign-in step answers; which fields are set depends on <see cref="Status"/>.</summary>
public sealed record SignInResponse(
    string Status,
    string? Challenge = null,
    int? ChallengeExpiresIn = null,
    TokenResponse? Tokens = null,
    IReadOnlyList<string>? RecoveryCodes = null)
{
    /// <summary>Signed in: <see cref="Tokens"/> is set.</summary>
    public const string SignedIn = "signed_in";

    /// <summary>Password right; send the authenticator code (or a recovery code) with <see cref="Challenge"/>.</summary>
    public const string TwoFactorRequired = "two_factor_required";

    /// <summary>Password right, two-step verification required but not set up: enrol an authenticator with <see cref="Challenge"/>.</summary>
    public const string AuthenticatorEnrolmentRequired = "authenticator_enrolment_required";
}

/// <summary>The second sign-in step: the challenge with either an authenticator <paramref name="Code"/> or a <paramref name="RecoveryCode"/> (the other may be omitted).</summary>
public sealed record TwoFactorRequest(string Challenge, string? Code = null, string? RecoveryCode = null);

public sealed record ChallengeRequest(string Challenge);

public sealed record AuthenticatorConfirmRequest(string? Challenge, string Code);

/// <summary>A new authenticator secret, shown once: the key, an otpauth URI and that URI as an SVG QR code.</summary>
public sealed record AuthenticatorSetupResponse(string SharedKey, string OtpAuthUri, string QrCodeSvg);

public sealed record RecoveryCodesResponse(IReadOnlyList<string> RecoveryCodes);

/// <summary>A fresh second factor for a sensitive action: the authenticator's current code (accepted once, like at sign-in).</summary>
public sealed record SecondFactorRequest(string Code);

/// <summary>Change one's own password: the current one and a fresh authenticator code prove it is the account's owner.</summary>
public sealed record ChangePasswordRequest(string CurrentPassword, string NewPassword, string Code);

/// <summary>OAuth 2.0 style token response (RFC 6749 §5.1 names).</summary>
public sealed record TokenResponse(
    [property: JsonPropertyName("access_token")] string AccessToken,
    [property: JsonPropertyName("token_type")] string TokenType,
    [property: JsonPropertyName("expires_in")] int ExpiresIn,
    [property: JsonPropertyName("refresh_token")] string? RefreshToken,
    [property: JsonPropertyName("audience")] string Audience);

/// <summary>Exchange a refresh token for a new access token (for <paramref name="Audience"/>) and a new refresh token.</summary>
public sealed record RefreshRequest(
    [property: JsonPropertyName("refresh_token")] string RefreshToken,
    [property: JsonPropertyName("audience")] string? Audience = null);

public sealed record RevokeRequest([property: JsonPropertyName("refresh_token")] string RefreshToken);
