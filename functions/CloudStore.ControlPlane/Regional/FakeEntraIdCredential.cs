using System.Security.Cryptography;
using Azure.Core;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace CloudStore.ControlPlane.Regional;

/// <summary>
/// A FAKE Microsoft Entra ID, for the local stack only: Entra cannot run here, and Azurite (started with
/// <c>--oauth basic</c>) accepts any well-formed storage token without checking its signature. This
/// credential mints such tokens so that the user-delegation SAS path runs against Azurite exactly as it
/// runs against Azure with a managed identity. It refuses to serve any endpoint but loopback.
/// </summary>
public sealed class FakeEntraIdCredential(Uri endpoint, TimeProvider time) : TokenCredential
{
    const string FakeTenant = "00000000-0000-0000-0000-00000000c0de";
    static readonly SigningCredentials Signing = new(new ECDsaSecurityKey(ECDsa.Create(ECCurve.NamedCurves.nistP256)), SecurityAlgorithms.EcdsaSha256);

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        if (!endpoint.IsLoopback)
        {
            throw new InvalidOperationException("FakeEntraIdCredential serves the local emulator only; use a managed identity for Azure.");
        }

        var now = time.GetUtcNow();
        var expires = now.AddHours(1);
        var token = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false }.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = $"https://sts.windows.net/{FakeTenant}/",
            Audience = "https://storage.azure.com",
            IssuedAt = now.UtcDateTime,
            NotBefore = now.AddMinutes(-5).UtcDateTime,
            Expires = expires.UtcDateTime,
            Claims = new Dictionary<string, object> { ["oid"] = "cloudstore-functions-local", ["tid"] = FakeTenant },
            SigningCredentials = Signing,
        });
        return new AccessToken(token, expires);
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}
