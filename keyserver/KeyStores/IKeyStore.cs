using CloudStore.Contracts;
using CloudStore.Contracts.Envelope;

namespace CloudStore.KeyServer.KeyStores;

/// <summary>
/// Where the organisations' RSA-2048 key pairs live, one store per region. The private key never
/// leaves the store: callers get public keys and, for an unwrap, the binding record inside a wrapped key.
/// Implementations: <see cref="LocalKeyStore"/> (embedded default) and <see cref="AzureKeyVaultKeyStore"/>, chosen by
/// <c>KeyServer:KeyStore</c> (<see cref="KeyStoreServices.AddKeyStore"/>); AWS KMS to come. Both pass the same
/// contract tests (<c>KeyStoreContractTests</c>).
/// </summary>
public interface IKeyStore
{
    /// <summary>The organisation's current public key in the region, made on first need.</summary>
    Task<PublicKeyResponse> GetOrCreatePublicKeyAsync(Guid organizationId, string region, CancellationToken cancellationToken);

    /// <summary>A new key version; new data keys are wrapped under it, old wrapped keys still unwrap.</summary>
    Task<PublicKeyResponse> RotateAsync(Guid organizationId, string region, CancellationToken cancellationToken);

    /// <exception cref="System.Security.Cryptography.CryptographicException">
    /// Unknown key, or the wrapped key was changed; <see cref="KeyDestroyedException"/> (one of them) where the store knows the
    /// key was destroyed (the local store; Key Vault answers a deleted key as an unknown one).
    /// </exception>
    Task<BindingRecord> UnwrapAsync(WrappedKey wrapped, CancellationToken cancellationToken);

    /// <summary>
    /// Crypto-shredding: destroys every version of the organisation's key in the region, so that from now on no
    /// data key wrapped under it can be unwrapped, and no new key is made for the organisation there
    /// (<see cref="KeyDestroyedException"/>). Idempotent.
    /// </summary>
    /// <returns>False when the organisation had no key there.</returns>
    Task<bool> DestroyAsync(Guid organizationId, string region, CancellationToken cancellationToken);
}

/// <summary>
/// The organisation's key in the region was destroyed (its organisation was deleted): none is made again, and nothing wrapped
/// under it opens. A <see cref="System.Security.Cryptography.CryptographicException"/>, so every caller that refuses an
/// unknown key refuses a destroyed one too.
/// </summary>
public sealed class KeyDestroyedException(string message) : System.Security.Cryptography.CryptographicException(message);
