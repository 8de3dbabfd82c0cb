using System.Globalization;

namespace CloudStore.LocalStack;

/// <summary>
/// An organisation's OpenID Connect identity provider on loopback (node-oidc-provider, started by
/// <c>oidc-provider.mjs</c>): the stand-in for a customer's Entra ID or Okta when trying or testing single sign-on.
/// Its accounts are whatever login is typed; the login decides the role claim (see the script).
/// </summary>
public sealed class IdentityProvider : IAsyncDisposable
{
    readonly ChildProcess _process;

    IdentityProvider(ChildProcess process, int port, string clientId)
    {
        _process = process;
        Issuer = string.Create(CultureInfo.InvariantCulture, $"https://127.0.0.1:{port}");
        ClientId = clientId;
    }

    /// <summary>The issuer URL (no trailing slash), where its discovery document is.</summary>
    public string Issuer { get; }

    /// <summary>The web player's client id there.</summary>
    public string ClientId { get; }

    /// <summary>The role values the provider gives and the CloudStore roles they map to, as an organisation would configure it.</summary>
    public static IReadOnlyDictionary<string, string> RoleMap { get; } = new Dictionary<string, string>
    {
        ["CloudStore.Admins"] = Contracts.Roles.Administrator,
        ["CloudStore.Operators"] = Contracts.Roles.Operator,
        ["CloudStore.Viewers"] = Contracts.Roles.Viewer,
    };

    /// <param name="redirectUri">The player's callback there (<c>https://…/signin-sso-N</c>).</param>
    public static async Task<IdentityProvider> StartAsync(CertificateFiles certificates, string clientId, Uri redirectUri, string logFile, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(Path.Combine(RepositoryLayout.NodeModules, "oidc-provider")))
        {
            throw new InvalidOperationException("oidc-provider is not installed. Run `./cloudstore test` or `./cloudstore demo`, which run `npm ci` in infra/local.");
        }

        var port = ChildProcess.FreePort();
        var script = Path.Combine(RepositoryLayout.Root, "infra", "local", "oidc-provider.mjs");
        var process = await ChildProcess.StartAsync("identity-provider", "node",
            [script, port.ToString(CultureInfo.InvariantCulture), certificates.ServerCertificate, certificates.ServerKey, clientId, redirectUri.ToString()],
            new Dictionary<string, string>(), logFile,
            new Uri(string.Create(CultureInfo.InvariantCulture, $"https://127.0.0.1:{port}/.well-known/openid-configuration")), certificates.CaCertificate, cancellationToken);
        return new IdentityProvider(process, port, clientId);
    }

    /// <summary>The functions' settings that trust this provider for <paramref name="organizationId"/> (issuer index <paramref name="index"/>).</summary>
    public Dictionary<string, string> FunctionsSettings(Guid organizationId, int index = 0)
    {
        var prefix = $"Auth__ExternalIssuers__{index}__";
        var settings = new Dictionary<string, string>
        {
            [prefix + "Issuer"] = Issuer,
            [prefix + "Audience"] = "api://cloudstore",
            [prefix + "ClientId"] = ClientId,
            [prefix + "OrganizationId"] = organizationId.ToString(),
            [prefix + "RoleClaim"] = "roles",
        };
        foreach (var (external, role) in RoleMap)
        {
            settings[$"{prefix}RoleMap__{external}"] = role;
        }

        return settings;
    }

    /// <summary>The player's settings that offer sign-in with this provider (provider index <paramref name="index"/>).</summary>
    public Dictionary<string, string> PlayerSettings(string displayName, int index = 0) => new()
    {
        [$"Player__IdentityProviders__{index}__Name"] = displayName,
        [$"Player__IdentityProviders__{index}__Authority"] = Issuer,
        [$"Player__IdentityProviders__{index}__ClientId"] = ClientId,
    };

    public ValueTask DisposeAsync() => _process.DisposeAsync();
}
