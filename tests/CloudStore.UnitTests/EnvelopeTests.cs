using System.Security.Cryptography;
using CloudStore.Contracts;
using CloudStore.Contracts.Envelope;
using Xunit;

namespace CloudStore.UnitTests;

public sealed class EnvelopeTests
{
    [Fact]
    public void SegmentCipher_RoundTrip_AndStandardAes128CbcPkcs7()
    {
        var key = SegmentCipher.NewKey();
        var iv = SegmentCipher.NewIv();
        var plaintext = RandomNumberGenerator.GetBytes(1000);

        var ciphertext = SegmentCipher.Encrypt(plaintext, key, iv);

        Assert.Equal(1008, ciphertext.Length);
        Assert.Equal(plaintext, SegmentCipher.Decrypt(ciphertext, key, iv));
        using var aes = Aes.Create();
        aes.Key = key;
        Assert.Equal(plaintext, aes.DecryptCbc(ciphertext, iv, PaddingMode.PKCS7));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(16)]
    [InlineData(SegmentCipher.ChunkSize - 1)]
    [InlineData(SegmentCipher.ChunkSize)]
    [InlineData(SegmentCipher.ChunkSize + 17)]
    [InlineData((2 * 1024 * 1024) + 3)]
    public async Task SegmentCipher_Streamed_IsTheOneShotCiphertext_WithItsSha256(int length)
    {
        var key = SegmentCipher.NewKey();
        var iv = SegmentCipher.NewIv();
        var plaintext = RandomNumberGenerator.GetBytes(length);
        using var output = new MemoryStream();
        using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

        // A source that hands out a few bytes at a time, as a pipe or a network stream may.
        var written = await SegmentCipher.EncryptAsync(new TrickleStream(plaintext), output, key, iv, digest, CancellationToken.None);

        var expected = SegmentCipher.Encrypt(plaintext, key, iv);
        Assert.Equal(expected.Length, written);
        Assert.Equal(expected, output.ToArray());
        Assert.Equal(SHA256.HashData(expected), digest.GetHashAndReset());
    }

    /// <summary>A read-only stream that returns at most 1,000 bytes a read.</summary>
    sealed class TrickleStream(byte[] content) : MemoryStream(content, writable: false)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1000));

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(buffer.Length, 1000)], cancellationToken);
    }

    [Fact]
    public void WrappedKey_WrapParseUnwrap_RoundTrip()
    {
        using var rsa = RSA.Create(2048);
        var record = new BindingRecord(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), SegmentCipher.NewKey());
        var name = new KeyEncryptionKeyId(Regions.UkLondon, record.OrganizationId, 3).ToString();

        var bytes = WrappedKey.Wrap(record, rsa, name).ToBytes();
        var parsed = WrappedKey.Parse(bytes);
        var unwrapped = parsed.Unwrap(rsa);

        Assert.Equal(name, parsed.KeyEncryptionKeyId);
        Assert.Equal((record.OrganizationId, record.CameraId, record.DataKeyId), (unwrapped.OrganizationId, unwrapped.CameraId, unwrapped.DataKeyId));
        Assert.Equal(record.Key, unwrapped.Key);
        Assert.DoesNotContain(Convert.ToHexString(record.Key), unwrapped.ToString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void WrappedKey_TamperedCiphertext_RefusedByOaep()
    {
        using var rsa = RSA.Create(2048);
        var wrapped = WrappedKey.Wrap(new BindingRecord(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), SegmentCipher.NewKey()), rsa, "eu-frankfurt/x/v1");
        var bytes = wrapped.Ciphertext.ToArray();
        bytes[100] ^= 1;

        Assert.ThrowsAny<CryptographicException>(() => (wrapped with { Ciphertext = bytes }).Unwrap(rsa));
    }

    [Theory]
    [InlineData("")]
    [InlineData("CSWK")]
    [InlineData("XXXX\u0001\u0001a")]
    public void WrappedKey_Parse_RejectsWhatIsNotOne(string text)
    {
        Assert.Throws<FormatException>(() => WrappedKey.Parse(System.Text.Encoding.Latin1.GetBytes(text)));
    }

    [Fact]
    public void WrappedKey_Parse_RejectsTruncated()
    {
        using var rsa = RSA.Create(2048);
        var bytes = WrappedKey.Wrap(new BindingRecord(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), SegmentCipher.NewKey()), rsa, "k").ToBytes();

        Assert.Throws<FormatException>(() => WrappedKey.Parse(bytes.AsSpan(0, bytes.Length - 1)));
    }

    [Fact]
    public void BindingRecord_IsSmallEnoughForRsa2048Oaep()
    {
        // OAEP with SHA-256 carries at most 256 - 2*32 - 2 = 190 bytes under a 2048-bit key.
        Assert.True(BindingRecord.Length <= 190);
    }

    [Theory]
    [InlineData("eu-frankfurt/0123456789abcdef0123456789abcdef/v1", true)]
    [InlineData("mars-base/0123456789abcdef0123456789abcdef/v1", false)]
    [InlineData("eu-frankfurt/not-a-guid/v1", false)]
    [InlineData("eu-frankfurt/0123456789abcdef0123456789abcdef/v0", false)]
    [InlineData("eu-frankfurt/0123456789abcdef0123456789abcdef", false)]
    public void KeyEncryptionKeyId_TryParse(string text, bool valid)
    {
        Assert.Equal(valid, KeyEncryptionKeyId.TryParse(text, out var id));
        if (valid)
        {
            Assert.Equal(text, id.ToString());
        }
    }
}
