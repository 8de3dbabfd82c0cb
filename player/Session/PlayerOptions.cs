using System.ComponentModel.DataAnnotations;

namespace CloudStore.Player.Session;

/// <summary>The <c>Player</c> section: where the APIs are, and how long sessions last (their database: <see cref="Data.PlayerDatabaseOptions"/>).</summary>
public sealed class PlayerOptions
{
    public const string Section = "Player";

    /// <summary>The functions API's base URL (sign-in, cameras, timelines, playlists).</summary>
    [Required]
    public Uri FunctionsUrl { get; set; } = null!;

    /// <summary>The key server's base URL; key URIs in playlists name it, and only its requests get a key-server token.</summary>
    [Required]
    public Uri KeyServerUrl { get; set; } = null!;

    /// <summary>
    /// The file with this front end's key, shared with the API (<c>Auth:FrontEndKeyFile</c> there): with
    /// it, sign-in calls carry the browser's address, so the API's per-client limiter and audit log see
    /// each person rather than the player. Without it the API sees every sign-in as the player's.
    /// </summary>
    public string? FrontEndKeyFile { get; set; }

    /// <summary>Serve wwwroot from the build output's manifest (running from bin/ rather than a publish folder).</summary>
    public bool UseStaticWebAssets { get; set; }

    /// <summary>The organisations' identity providers the sign-in page offers (single sign-on); empty: passwords only.</summary>
    public List<IdentityProviderOptions> IdentityProviders { get; set; } = [];

    /// <summary>How long a session lasts without use; every session also ends when its refresh token does.</summary>
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromHours(8);
}

/// <summary>
/// One organisation's OpenID Connect provider, as the player signs people in with it: authorization code with PKCE, as
/// a public client (no secret). The functions API must trust the same issuer for that organisation
/// (<c>Auth:ExternalIssuers</c>, with this client id), since it is the API that turns the provider's ID token into a
/// CloudStore user and tokens.
/// </summary>
public sealed class IdentityProviderOptions
{
    /// <summary>What the button says: "Sign in with {Name}".</summary>
    public string Name { get; set; } = "";

    /// <summary>The provider's issuer URL (https), where its discovery document is.</summary>
    public string Authority { get; set; } = "";

    public string ClientId { get; set; } = "";
}
