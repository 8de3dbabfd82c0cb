using System.Security.Cryptography;
using CloudStore.Contracts;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace CloudStore.ControlPlane.Auth;

/// <summary>
/// The ECDSA P-256 key that signs every access token (ES256). Its public half is published as JWKS
/// so the key server validates tokens on its own. Locally it lives in a 0600 PEM file; in Azure the
/// file comes from a Key Vault reference.
/// </summary>
public sealed class SigningKeys : IDisposable
{
    readonly ECDsa _key;

    public SigningKeys(IOptions<AuthOptions> options)
    {
        _key = LoadOrCreate(options.Value.SigningKeyFile);
        // No provider cache: IdentityModel caches signature providers process-wide by public key, so a host started again in
        // the same process with the same key file (the sweep in the tests) would sign with this host's disposed key.
        var securityKey = new ECDsaSecurityKey(_key) { CryptoProviderFactory = new CryptoProviderFactory { CacheSignatureProviders = false } };
        var publicJwk = JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ECDsa.Create(_key.ExportParameters(false))));
        var keyId = Base64UrlEncoder.Encode(publicJwk.ComputeJwkThumbprint());
        securityKey.KeyId = keyId;
        publicJwk.KeyId = keyId;
        publicJwk.Use = "sig";
        publicJwk.Alg = SecurityAlgorithms.EcdsaSha256;
        SecurityKey = securityKey;
        Credentials = new SigningCredentials(securityKey, SecurityAlgorithms.EcdsaSha256);
        PublicJwk = publicJwk;
    }

    public SecurityKey SecurityKey { get; }

    public SigningCredentials Credentials { get; }

    public JsonWebKey PublicJwk { get; }

    public void Dispose() => _key.Dispose();

    static ECDsa LoadOrCreate(string path)
    {
        var key = ECDsa.Create();
        if (File.Exists(path))
        {
            key.ImportFromPem(File.ReadAllText(path));
            return key;
        }

        key.GenerateKey(ECCurve.NamedCurves.nistP256);
        PrivateFile.Write(path, key.ExportPkcs8PrivateKeyPem());
        return key;
    }
}
