using System.ComponentModel.DataAnnotations;

namespace CloudStore.Player.Session;

/// <summary>The <c>Player</c> section: where the APIs are and where the player keeps its data-protection keys.</summary>
public sealed class PlayerOptions
{
    public const string Section = "Player";

    /// <summary>The functions API's base URL (sign-in, cameras, timelines, playlists).</summary>
    [Required]
    public Uri FunctionsUrl { get; set; } = null!;

    /// <summary>The key server's base URL; key URIs in playlists name it, and only its requests get a key-server token.</summary>
    [Required]
    public Uri KeyServerUrl { get; set; } = null!;

    /// <summary>Serve wwwroot from the build output's manifest (running from bin/ rather than a publish folder).</summary>
    public bool UseStaticWebAssets { get; set; }

    /// <summary>
    /// Where the data-protection keys that seal session cookies are kept (0700). Empty: in memory, so a
    /// restart signs everyone out. In Azure this is a blob protected by a Key Vault key.
    /// </summary>
    public string? DataProtectionFolder { get; set; }

    /// <summary>How long a session lasts without use; every session also ends when its refresh token does.</summary>
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromHours(8);
}
