using System.Collections.Concurrent;
using System.Security.Cryptography;
using Azure.Core;

namespace CloudStore.Tests.Infrastructure;

/// <summary>
/// A FAKE Entra ID credential for tests (Entra ID cannot run here): it records every token request (scopes,
/// tenant) and answers with opaque random tokens. Only a request for the Key Vault audience in the expected
/// tenant gets <see cref="KeyVaultToken"/>, the one token <see cref="FakeKeyVault"/> accepts; any other request
/// gets a token for nothing, so a client that asks for the wrong audience is refused by the fake vault.
/// </summary>
public sealed class FakeEntraIdTokenCredential(string tenantId) : TokenCredential
{
    /// <summary>The audience of Azure Key Vault's data plane, as the vault's challenge names it.</summary>
    public const string KeyVaultScope = "https://vault.azure.net/.default";

    readonly ConcurrentQueue<TokenRequest> _requests = new();

    public string TenantId { get; } = tenantId;

    /// <summary>The token issued for <see cref="KeyVaultScope"/> in <see cref="TenantId"/>.</summary>
    public string KeyVaultToken { get; } = "fake-entra-kv-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));

    /// <summary>When set, every request gets a token for nothing (a misconfigured identity).</summary>
    public bool IssueOnlyUselessTokens { get; set; }

    public IReadOnlyCollection<TokenRequest> Requests => _requests;

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => Issue(requestContext);

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(Issue(requestContext));

    AccessToken Issue(TokenRequestContext requestContext)
    {
        _requests.Enqueue(new TokenRequest([.. requestContext.Scopes], requestContext.TenantId));
        var forTheVault = !IssueOnlyUselessTokens && requestContext.Scopes is [KeyVaultScope] && requestContext.TenantId == TenantId;
        var token = forTheVault ? KeyVaultToken : "fake-entra-other-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        return new AccessToken(token, TimeProvider.System.GetUtcNow().AddHours(1));
    }

    public sealed record TokenRequest(IReadOnlyList<string> Scopes, string? TenantId);
}
