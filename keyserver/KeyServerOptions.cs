namespace CloudStore.KeyServer;

/// <summary>The <c>KeyServer</c> configuration section.</summary>
public sealed class KeyServerOptions
{
    public const string Section = "KeyServer";

    /// <summary>
    /// The issuer of the access tokens the key server accepts (the functions API, <c>https://…/api</c>).
    /// Its discovery document and JWKS are read from there: the key server validates tokens on its own.
    /// </summary>
    public string TokenIssuer { get; set; } = "";

    /// <summary>The web player's origin (scheme, host, port): the only origin browsers may call the key server from.</summary>
    public string? PlayerOrigin { get; set; }

    /// <summary>Unwraps one user may ask for per minute; a player asks once per data key (an hour of video).</summary>
    public int UnwrapsPerUserPerMinute { get; set; } = 600;

    /// <summary>The key server's own append-only audit log of unwraps and refusals (SQLite).</summary>
    public string AuditDatabase { get; set; } = ".local/keyserver/audit.db";
}
