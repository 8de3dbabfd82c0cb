using System.Security.Cryptography;

namespace CloudStore.Contracts.Envelope;

/// <summary>
/// Media encryption: AES-128-CBC with PKCS#7 padding over a whole file (init segment or media
/// segment), with a random 16-byte IV per file carried in the index and the playlist. This is HLS
/// <c>METHOD=AES-128</c> (RFC 8216 §4.3.2.4, §5.2), so any standard HLS player decrypts it given the key.
/// </summary>
public static class SegmentCipher
{
    public const int KeySize = 16;
    public const int IvSize = 16;

    public static byte[] NewKey() => RandomNumberGenerator.GetBytes(KeySize);

    public static byte[] NewIv() => RandomNumberGenerator.GetBytes(IvSize);

    public static byte[] Encrypt(ReadOnlySpan<byte> plaintext, byte[] key, ReadOnlySpan<byte> iv)
    {
        using var aes = Create(key);
        return aes.EncryptCbc(plaintext, iv, PaddingMode.PKCS7);
    }

    /// <exception cref="CryptographicException">Wrong key or IV, or the ciphertext was changed (bad padding).</exception>
    public static byte[] Decrypt(ReadOnlySpan<byte> ciphertext, byte[] key, ReadOnlySpan<byte> iv)
    {
        using var aes = Create(key);
        return aes.DecryptCbc(ciphertext, iv, PaddingMode.PKCS7);
    }

    static Aes Create(byte[] key)
    {
        if (key.Length != KeySize)
        {
            throw new ArgumentException("AES-128 keys are 16 bytes.", nameof(key));
        }

        var aes = Aes.Create();
        aes.Key = key;
        return aes;
    }
}
