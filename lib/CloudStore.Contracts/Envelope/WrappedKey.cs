using System.Security.Cryptography;
using System.Text;

namespace CloudStore.Contracts.Envelope;

/// <summary>
/// A data key wrapped for the key server: the binding record encrypted with RSA-OAEP-SHA256 under the
/// organisation's regional RSA-2048 public key, behind a small header naming that key.
/// File layout: "CSWK" | format 1 | key-id length (1) | key id (UTF-8) | RSA ciphertext (256).
/// Stored beside the media as <c>keys/{dataKeyId}.key</c>.
/// </summary>
public sealed record WrappedKey(string KeyEncryptionKeyId, byte[] Ciphertext)
{
    static readonly byte[] Magic = "CSWK"u8.ToArray();
    const byte FormatVersion = 1;
    const int RsaCiphertextLength = 256;

    /// <summary>Where a wrapped key lives in the camera's storage.</summary>
    public static string ObjectName(Guid dataKeyId) => $"keys/{dataKeyId:N}.key";

    public static WrappedKey Wrap(BindingRecord record, RSA publicKey, string keyEncryptionKeyId)
    {
        if (publicKey.KeySize != 2048)
        {
            throw new ArgumentException("Data keys are wrapped under RSA-2048 keys.", nameof(publicKey));
        }

#pragma warning disable RS0030 // The one place that encrypts with RSA, and only with OAEP-SHA256.
        var ciphertext = publicKey.Encrypt(record.ToBytes(), RSAEncryptionPadding.OaepSHA256);
#pragma warning restore RS0030
        return new WrappedKey(keyEncryptionKeyId, ciphertext);
    }

    /// <summary>Decrypts with the private key. Only a key store calls this, inside the key server.</summary>
    /// <exception cref="CryptographicException">Not wrapped under this key, or changed since.</exception>
    public BindingRecord Unwrap(RSA privateKey)
    {
#pragma warning disable RS0030 // The one place that decrypts with RSA, and only with OAEP-SHA256 (never PKCS#1 v1.5).
        var plaintext = privateKey.Decrypt(Ciphertext, RSAEncryptionPadding.OaepSHA256);
#pragma warning restore RS0030
        return Open(plaintext);
    }

    /// <summary>
    /// Decrypts with a private key that never leaves its store (a key vault's unwrap operation):
    /// <paramref name="decryptOaepSha256"/> must decrypt the RSA ciphertext with RSA-OAEP-SHA256 (MGF1 SHA-256)
    /// and return the plaintext, which is then read exactly as <see cref="Unwrap(RSA)"/> reads it.
    /// </summary>
    /// <exception cref="CryptographicException">Not wrapped under this key, or changed since.</exception>
    public async Task<BindingRecord> UnwrapAsync(Func<ReadOnlyMemory<byte>, CancellationToken, Task<byte[]>> decryptOaepSha256, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(decryptOaepSha256);
        return Open(await decryptOaepSha256(Ciphertext, cancellationToken));
    }

    /// <summary>Reads a decrypted binding record and wipes the plaintext.</summary>
    static BindingRecord Open(byte[] plaintext)
    {
        try
        {
            return BindingRecord.Parse(plaintext);
        }
        catch (FormatException e)
        {
            throw new CryptographicException("The wrapped key does not hold a binding record.", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    public byte[] ToBytes()
    {
        var id = Encoding.UTF8.GetBytes(KeyEncryptionKeyId);
        if (id.Length is 0 or > 255)
        {
            throw new InvalidOperationException("A key id is 1 to 255 bytes.");
        }

        return [.. Magic, FormatVersion, (byte)id.Length, .. id, .. Ciphertext];
    }

    /// <exception cref="FormatException">Not a wrapped key of a known format.</exception>
    public static WrappedKey Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 6 || !bytes[..4].SequenceEqual(Magic) || bytes[4] != FormatVersion)
        {
            throw new FormatException("Not a version-1 CloudStore wrapped key.");
        }

        var idLength = bytes[5];
        if (idLength == 0 || bytes.Length != 6 + idLength + RsaCiphertextLength)
        {
            throw new FormatException("A wrapped key of the wrong length.");
        }

        string id;
        try
        {
            id = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes.Slice(6, idLength));
        }
        catch (DecoderFallbackException e)
        {
            throw new FormatException("The key id is not UTF-8.", e);
        }

        return new WrappedKey(id, bytes[(6 + idLength)..].ToArray());
    }
}
