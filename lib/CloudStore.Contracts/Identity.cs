namespace CloudStore.Contracts;

/// <summary>Roles inside an organisation, as carried in the <c>role</c> claim of access tokens.</summary>
public static class Roles
{
    /// <summary>Everything in the organisation: users, devices, licences, recordings.</summary>
    public const string Administrator = "administrator";

    /// <summary>Cameras, playback and export of recordings.</summary>
    public const string Operator = "operator";

    /// <summary>Sees cameras and their status, and watches them live; no access to recordings.</summary>
    public const string Viewer = "viewer";

    /// <summary>Not a person: an enrolled camera or recorder.</summary>
    public const string Device = "device";

    /// <summary>Not a person: the control plane calling the key server.</summary>
    public const string Service = "service";

    public static readonly IReadOnlyList<string> UserRoles = [Administrator, Operator, Viewer];

    public static bool IsUserRole(string? role) => role is Administrator or Operator or Viewer;
}

/// <summary>Audiences of CloudStore access tokens: a token for one service is refused by the other.</summary>
public static class Audiences
{
    public const string Api = "cloudstore-api";
    public const string KeyServer = "cloudstore-keyserver";

    public static bool IsKnown(string? audience) => audience is Api or KeyServer;
}

/// <summary>Claim names in CloudStore access tokens (short, JWT-style; inbound claim mapping is off).</summary>
public static class ClaimNames
{
    public const string Subject = "sub";
    public const string Organization = "org";
    public const string Role = "role";
    public const string AuthenticationMethods = "amr";
}

/// <summary>
/// Live grants: the key server opens a data key for a viewer (who may watch live only) when the key request carries a
/// grant (the live playlist gives it once per data key, in its key tag), a short-lived JWT the functions sign with the access tokens' key, naming the viewer, the camera and the data
/// key, issued only for keys of segments in the live window. Its own token type, so it is never taken for an access
/// token, nor an access token for it.
/// </summary>
public static class LiveGrant
{
    public const string TokenType = "cloudstore-live-grant+jwt";

    /// <summary>The key request's query parameter that carries the grant.</summary>
    public const string QueryParameter = "grant";

    /// <summary>The camera whose live key the grant opens.</summary>
    public const string Camera = "cam";

    /// <summary>The data key id (32 hex digits) the grant opens.</summary>
    public const string DataKey = "dk";
}
