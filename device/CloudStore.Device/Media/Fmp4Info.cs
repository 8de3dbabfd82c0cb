using System.Buffers.Binary;
using System.Globalization;

namespace CloudStore.Device.Media;

/// <summary>
/// What the index needs to know of an H.264 fMP4 init segment: the RFC 6381 codec string
/// (<c>avc1.PPCCLL</c>, from the avcC box) and the coded width and height (from the avc1 sample entry).
/// </summary>
public sealed record Fmp4Info(string Codec, int Width, int Height)
{
    static ReadOnlySpan<byte> Avc1 => "avc1"u8;

    static ReadOnlySpan<byte> AvcC => "avcC"u8;

    /// <exception cref="FormatException">No H.264 sample entry in the file.</exception>
    public static Fmp4Info FromInitSegment(ReadOnlySpan<byte> init)
    {
        var avc1 = init.IndexOf(Avc1);
        var avcC = init.IndexOf(AvcC);
        // avc1 sample entry: fourcc, 6 reserved, 2 data-reference index, 16 pre-defined/reserved, then width and height.
        if (avc1 < 0 || avcC < 0 || avc1 + 4 + 28 > init.Length || avcC + 8 > init.Length)
        {
            throw new FormatException("Not an H.264 fMP4 init segment (no avc1/avcC box).");
        }

        var width = BinaryPrimitives.ReadUInt16BigEndian(init[(avc1 + 4 + 24)..]);
        var height = BinaryPrimitives.ReadUInt16BigEndian(init[(avc1 + 4 + 26)..]);
        var profile = init[avcC + 5];
        var compatibility = init[avcC + 6];
        var level = init[avcC + 7];
        return new Fmp4Info(string.Create(CultureInfo.InvariantCulture, $"avc1.{profile:x2}{compatibility:x2}{level:x2}"), width, height);
    }

    /// <summary>Whether bytes look like the start of an MP4 file (a box header of a known top-level type).</summary>
    public static bool LooksLikeMp4(ReadOnlySpan<byte> bytes) =>
        bytes.Length >= 8 && (bytes[4..8].SequenceEqual("ftyp"u8) || bytes[4..8].SequenceEqual("styp"u8) || bytes[4..8].SequenceEqual("moof"u8));
}
