using System.Security.Cryptography;
using CloudStore.Contracts;
using CloudStore.Contracts.Envelope;

namespace CloudStore.KeyServer.KeyStores;

/// <summary>
/// What every <see cref="IKeyStore"/> checks the same way around its private-key operation, so that callers
/// see one behaviour whichever store holds the keys: which key a wrapped key names, and whether the binding
/// record inside belongs to that key's organisation.
/// </summary>
static class KeyStoreRules
{
    /// <exception cref="ArgumentException">Not a region of the catalogue.</exception>
    public static void RequireRegion(string region)
    {
        if (!Regions.All.Contains(region))
        {
            throw new ArgumentException($"Unknown region '{region}'.", nameof(region));
        }
    }

    /// <exception cref="CryptographicException">The wrapped key names no key a store could hold.</exception>
    public static KeyEncryptionKeyId KeyIdOf(WrappedKey wrapped) =>
        KeyEncryptionKeyId.TryParse(wrapped.KeyEncryptionKeyId, out var id) ? id : throw NoSuchKey();

    /// <summary>The error for a wrapped key naming a key (organisation, region, version) the store does not have.</summary>
    public static CryptographicException NoSuchKey() => new("The wrapped key names no key of this store.");

    /// <summary>The record, if it names the organisation whose key opened it; otherwise its key is wiped and it is refused.</summary>
    /// <exception cref="CryptographicException">The binding record belongs to another organisation.</exception>
    public static BindingRecord BelongingTo(this BindingRecord record, KeyEncryptionKeyId id)
    {
        if (record.OrganizationId != id.OrganizationId)
        {
            CryptographicOperations.ZeroMemory(record.Key);
            throw new CryptographicException("The binding record belongs to another organisation than the key.");
        }

        return record;
    }
}
