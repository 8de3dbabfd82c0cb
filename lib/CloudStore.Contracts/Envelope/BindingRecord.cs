
namespace CloudStore.Contracts.Envelope;

/// <summary>
/// What the RSA key wraps: the AES data key together with whose it is. The key server returns the
/// key only to a caller who may view <see cref="CameraId"/> of <see cref="OrganizationId"/>.
/// Layout (65 bytes): format version (1) | organisation id (16) | camera id (16) | data key id (16) | AES key (16).
/// </summary>
public sealed record BindingRecord(Guid OrganizationId, Guid CameraId, Guid DataKeyId, byte[] Key)
{
    public const byte FormatVersion = 1;
    public const int Length = 1 + 16 + 16 + 16 + SegmentCipher.KeySize;

    public byte[] ToBytes()
    {
        if (Key.Length != SegmentCipher.KeySize)
        {
            throw new InvalidOperationException("A binding record carries a 16-byte AES key.");
        }

        var bytes = new byte[Length];
        bytes[0] = FormatVersion;
        OrganizationId.TryWriteBytes(bytes.AsSpan(1, 16), bigEndian: true, out _);
        CameraId.TryWriteBytes(bytes.AsSpan(17, 16), bigEndian: true, out _);
        DataKeyId.TryWriteBytes(bytes.AsSpan(33, 16), bigEndian: true, out _);
        Key.CopyTo(bytes.AsSpan(49));
        return bytes;
    }

    /// <exception cref="FormatException">Not a binding record of a known format.</exception>
    public static BindingRecord Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != Length || bytes[0] != FormatVersion)
        {
            throw new FormatException("Not a version-1 binding record.");
        }

        return new BindingRecord(
            new Guid(bytes.Slice(1, 16), bigEndian: true),
            new Guid(bytes.Slice(17, 16), bigEndian: true),
            new Guid(bytes.Slice(33, 16), bigEndian: true),
            bytes.Slice(49, SegmentCipher.KeySize).ToArray());
    }

    /// <summary>Never print the key.</summary>
    public override string ToString() => $"BindingRecord {{ OrganizationId = {OrganizationId}, CameraId = {CameraId}, DataKeyId = {DataKeyId} }}";
}
