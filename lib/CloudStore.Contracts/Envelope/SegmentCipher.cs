using System.Buffers;
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

    /// <summary>Bytes encrypted per step of <see cref="EncryptAsync"/>: small enough to stay in the CPU's cache, large enough that a step's overhead is noise.</summary>
    public const int ChunkSize = 64 * 1024;

    /// <summary>
    /// Encrypts <paramref name="source"/> to its end into <paramref name="destination"/>, a chunk at a time through two
    /// pooled buffers (no buffer the size of the file, no allocation per chunk), the same ciphertext as <see cref="Encrypt"/>.
    /// </summary>
    /// <param name="ciphertextDigest">Given, the ciphertext is hashed as it is written (the index's SHA-256), in the same pass.</param>
    /// <returns>The ciphertext's length.</returns>
    public static async Task<long> EncryptAsync(
        Stream source, Stream destination, byte[] key, byte[] iv, IncrementalHash? ciphertextDigest, CancellationToken cancellationToken)
    {
        using var aes = Create(key);
        using var encryptor = aes.CreateEncryptor(key, iv);
        var input = ArrayPool<byte>.Shared.Rent(ChunkSize);
        var output = ArrayPool<byte>.Shared.Rent(ChunkSize + IvSize);
        try
        {
            long written = 0;
            while (true)
            {
                var read = await source.ReadAtLeastAsync(input.AsMemory(0, ChunkSize), ChunkSize, throwOnEndOfStream: false, cancellationToken);
                int length;
                if (read == ChunkSize)
                {
                    length = encryptor.TransformBlock(input, 0, ChunkSize, output, 0);
                }
                else
                {
                    // The end: its whole blocks, then the rest with PKCS#7 padding (a whole block of it when nothing is left).
                    var whole = read - (read % IvSize);
                    length = whole > 0 ? encryptor.TransformBlock(input, 0, whole, output, 0) : 0;
                    var last = encryptor.TransformFinalBlock(input, whole, read - whole);
                    last.CopyTo(output, length);
                    length += last.Length;
                }

                ciphertextDigest?.AppendData(output, 0, length);
                await destination.WriteAsync(output.AsMemory(0, length), cancellationToken);
                written += length;
                if (read < ChunkSize)
                {
                    return written;
                }
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input.AsSpan(0, ChunkSize)); // plaintext video
            ArrayPool<byte>.Shared.Return(input);
            ArrayPool<byte>.Shared.Return(output);
        }
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
