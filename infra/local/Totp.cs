using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;

namespace CloudStore.LocalStack;

/// <summary>
/// What an authenticator app does (RFC 6238, HMAC-SHA1, 30 s, 6 digits), so the demo and the tests can sign in the way a
/// person does. Checked against the RFC's own test vector in TotpTests.
/// </summary>
public static class Totp
{
    public static string Code(string base32Secret, DateTimeOffset time, int digits = 6)
    {
        var counter = time.ToUnixTimeSeconds() / 30;
        Span<byte> message = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(message, counter);
#pragma warning disable CA5350 // RFC 6238's default, and what authenticator apps compute: the test must match them.
        var hash = HMACSHA1.HashData(Base32Decode(base32Secret), message);
#pragma warning restore CA5350
        var offset = hash[^1] & 0x0F;
        var value = (BinaryPrimitives.ReadInt32BigEndian(hash.AsSpan(offset)) & 0x7FFFFFFF) % (int)Math.Pow(10, digits);
        return value.ToString(new string('0', digits), CultureInfo.InvariantCulture);
    }

    public static byte[] Base32Decode(string text)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var output = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var c in text.TrimEnd('=').ToUpperInvariant())
        {
            var index = alphabet.IndexOf(c, StringComparison.Ordinal);
            if (index < 0)
            {
                continue;
            }

            buffer = (buffer << 5) | index;
            bits += 5;
            if (bits >= 8)
            {
                output.Add((byte)(buffer >> (bits - 8)));
                bits -= 8;
            }
        }

        return [.. output];
    }
}
