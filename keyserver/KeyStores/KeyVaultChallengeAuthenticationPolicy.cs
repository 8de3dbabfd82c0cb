using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;

namespace CloudStore.KeyServer.KeyStores;

/// <summary>
/// Key Vault's challenge-based authentication, done the way the Azure SDK's own Key Vault clients do it
/// (Azure.Security.KeyVault.Shared's ChallengeBasedAuthenticationPolicy), which cannot be referenced here:
/// <list type="number">
/// <item>The first request to a vault goes without a token and without its body (the wrapped key is not sent
/// before the caller is authenticated).</item>
/// <item>The vault answers 401 with <c>WWW-Authenticate: Bearer authorization="https://login…/{tenant}",
/// resource="https://vault.azure.net"</c>. The resource must be the parent domain of the vault's host, or
/// nothing is sent: a vault address that is not a vault cannot obtain a Key Vault token.</item>
/// <item>A token for <c>{resource}/.default</c> in that tenant is requested, the body restored and the request sent
/// again; later requests to the same vault carry the (cached, refreshed) token from the start.</item>
/// </list>
/// Azure.Core's <see cref="BearerTokenAuthenticationPolicy"/> refuses plain http, caches tokens and refreshes
/// them before they expire.
/// </summary>
public sealed class KeyVaultChallengeAuthenticationPolicy(TokenCredential credential) : BearerTokenAuthenticationPolicy(credential, Array.Empty<string>())
{
    const string StashedContent = "CloudStore.KeyVault.StashedContent";
    readonly ConcurrentDictionary<string, Challenge> _challenges = new(StringComparer.OrdinalIgnoreCase);

    protected override ValueTask AuthorizeRequestAsync(HttpMessage message)
    {
        if (_challenges.TryGetValue(Authority(message), out var challenge))
        {
            return AuthenticateAndAuthorizeRequestAsync(message, challenge.Context(message));
        }

        Stash(message);
        return ValueTask.CompletedTask;
    }

    protected override void AuthorizeRequest(HttpMessage message)
    {
        if (_challenges.TryGetValue(Authority(message), out var challenge))
        {
            AuthenticateAndAuthorizeRequest(message, challenge.Context(message));
            return;
        }

        Stash(message);
    }

    protected override async ValueTask<bool> AuthorizeRequestOnChallengeAsync(HttpMessage message)
    {
        if (!TryAccept(message, out var challenge))
        {
            return false;
        }

        await AuthenticateAndAuthorizeRequestAsync(message, challenge.Context(message));
        return true;
    }

    protected override bool AuthorizeRequestOnChallenge(HttpMessage message)
    {
        if (!TryAccept(message, out var challenge))
        {
            return false;
        }

        AuthenticateAndAuthorizeRequest(message, challenge.Context(message));
        return true;
    }

    /// <summary>Until the vault has named its tenant and resource, the request goes without its body.</summary>
    static void Stash(HttpMessage message)
    {
        // A retry of the first request finds the body already stashed and the request already empty.
        if (message.Request.Content is { } content && !message.TryGetProperty(StashedContent, out _))
        {
            message.SetProperty(StashedContent, content);
            message.Request.Content = null;
        }
    }

    bool TryAccept(HttpMessage message, out Challenge challenge)
    {
        if (message.Request.Content is null && message.TryGetProperty(StashedContent, out var stashed))
        {
            message.Request.Content = stashed as RequestContent;
        }

        var bearer = message.Response.Headers.TryGetValue(HttpHeader.Names.WwwAuthenticate, out var header) ? BearerParameters(header) : null;
        string? scope = null;
        string? authorization = null;
        if (bearer is not null)
        {
            scope = bearer.TryGetValue("resource", out var resource) ? resource.TrimEnd('/') + "/.default" : bearer.GetValueOrDefault("scope");
            authorization = bearer.GetValueOrDefault("authorization") ?? bearer.GetValueOrDefault("authorization_uri");
        }

        if (scope is null || authorization is null)
        {
            challenge = null!;
            return false;
        }

        if (!Uri.TryCreate(scope, UriKind.Absolute, out var scopeUri)
            || !(message.Request.Uri.Host ?? "").EndsWith("." + scopeUri.Host, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException(
                $"The authentication challenge of {message.Request.Uri.Host} names the resource '{scope}', which is not its domain: no token is sent.");
        }

        if (!Uri.TryCreate(authorization, UriKind.Absolute, out var authorizationUri) || authorizationUri.Scheme != Uri.UriSchemeHttps
            || authorizationUri.Segments.Length < 2)
        {
            throw new InvalidOperationException($"The authentication challenge of {message.Request.Uri.Host} names no usable authority.");
        }

        challenge = new Challenge(scope, authorizationUri.Segments[1].Trim('/'));
        _challenges[Authority(message)] = challenge;
        return true;
    }

    /// <summary>
    /// The parameters of the <c>Bearer</c> challenge in a <c>WWW-Authenticate</c> value (RFC 9110 §11.6.1:
    /// <c>scheme param="value", param=value, other-scheme …</c>), or null when there is none.
    /// (Azure.Core's own parser is internal.)
    /// </summary>
    internal static Dictionary<string, string>? BearerParameters(string header)
    {
        Dictionary<string, string>? bearer = null;
        Dictionary<string, string>? current = null;
        var i = 0;
        while (i < header.Length)
        {
            while (i < header.Length && (header[i] == ',' || char.IsWhiteSpace(header[i])))
            {
                i++;
            }

            var start = i;
            while (i < header.Length && header[i] != '=' && header[i] != ',' && !char.IsWhiteSpace(header[i]))
            {
                i++;
            }

            var token = header[start..i];
            var afterToken = i;
            while (i < header.Length && char.IsWhiteSpace(header[i]))
            {
                i++;
            }

            if (i < header.Length && header[i] == '=')
            {
                i++;
                while (i < header.Length && char.IsWhiteSpace(header[i]))
                {
                    i++;
                }

                var value = new System.Text.StringBuilder();
                if (i < header.Length && header[i] == '"')
                {
                    for (i++; i < header.Length && header[i] != '"'; i++)
                    {
                        if (header[i] == '\\' && i + 1 < header.Length)
                        {
                            i++;
                        }

                        value.Append(header[i]);
                    }

                    i++;
                }
                else
                {
                    for (; i < header.Length && header[i] != ',' && !char.IsWhiteSpace(header[i]); i++)
                    {
                        value.Append(header[i]);
                    }
                }

                if (current is not null && token.Length > 0)
                {
                    current[token] = value.ToString();
                }
            }
            else if (token.Length > 0)
            {
                // A token without '=' starts the next challenge.
                current = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                if (bearer is null && token.Equals("Bearer", StringComparison.OrdinalIgnoreCase))
                {
                    bearer = current;
                }

                i = afterToken;
            }
            else
            {
                i++;
            }
        }

        return bearer;
    }

    static string Authority(HttpMessage message)
    {
        var uri = message.Request.Uri.ToUri();
        return $"{uri.Host}:{uri.Port}";
    }

    sealed record Challenge(string Scope, string TenantId)
    {
        public TokenRequestContext Context(HttpMessage message) =>
            new([Scope], parentRequestId: message.Request.ClientRequestId, tenantId: TenantId);
    }
}
