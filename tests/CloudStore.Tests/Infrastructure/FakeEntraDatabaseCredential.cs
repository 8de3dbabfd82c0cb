using System.Collections.Concurrent;
using System.Security.Cryptography;
using Azure.Core;
using CloudStore.Hosting;

namespace CloudStore.Tests.Infrastructure;

/// <summary>
/// A FAKE Entra ID credential for database sign-in (Entra ID cannot run here): a request for Azure Database for
/// PostgreSQL's audience (<see cref="EntraDataSources.Scope"/>) gets <see cref="Token"/>, which a test makes a role's
/// password, as Azure's server accepts the identity's token as its password; any other audience gets a token for nothing.
/// </summary>
public sealed class FakeEntraDatabaseCredential(string token) : TokenCredential
{
    readonly ConcurrentQueue<string[]> _requests = new();

    /// <summary>A token shaped like Entra's (a JWT of about 1,500 characters), unique to one test.</summary>
    public static string NewToken() => "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9." + Convert.ToBase64String(RandomNumberGenerator.GetBytes(1100)).Replace('+', '-').Replace('/', '_').TrimEnd('=');

    public string Token { get; } = token;

    public IReadOnlyCollection<string[]> Requests => _requests;

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        _requests.Enqueue([.. requestContext.Scopes]);
        var token = requestContext.Scopes is [EntraDataSources.Scope] ? Token : "fake-entra-other-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        return new AccessToken(token, TimeProvider.System.GetUtcNow().AddHours(1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}
