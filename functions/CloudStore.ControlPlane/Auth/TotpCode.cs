using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;

namespace CloudStore.ControlPlane.Auth;

/// <summary>
/// RFC 6238 verification (HMAC-SHA1, 30 s steps, 6 digits: what authenticator apps compute) that says which
/// time step a code belongs to, so a code is accepted once: only steps after the last one used for the user.
/// One step either side of now is accepted for clock drift (RFC 6238 §5.2 recommends at most one).
/// </summary>
public static class TotpCode
{
    public const int StepSeconds = 30;
    const int Digits = 6;
    const int DriftSteps = 1;

    public static long StepAt(DateTimeOffset time) => time.ToUnixTimeSeconds() / StepSeconds;

    /// <returns>The matched time step, or null when the code matches no acceptable step after <paramref name="lastUsedStep"/>.</returns>
    public static long? Match(string base32Key, string code, DateTimeOffset now, long? lastUsedStep)
    {
        code = code.Replace(" ", string.Empty, StringComparison.Ordinal).Replace("-", string.Empty, StringComparison.Ordinal);
        if (code.Length != Digits || !code.All(char.IsAsciiDigit) || Base32Decode(base32Key) is not { Length: > 0 } key)
        {
            return null;
        }

        var current = StepAt(now);
        long? matched = null;
        // Every candidate is computed and compared in constant time, so timing does not say which step matched.
        for (var step = current - DriftSteps; step <= current + DriftSteps; step++)
        {
            var equal = CryptographicOperations.FixedTimeEquals(
                System.Text.Encoding.ASCII.GetBytes(Compute(key, step)), System.Text.Encoding.ASCII.GetBytes(code));
            if (equal && (lastUsedStep is null || step > lastUsedStep) && matched is null)
            {
                matched = step;
            }
        }

        return matched;
    }

    public static string Compute(byte[] key, long step)
    {
        Span<byte> message = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(message, step);
#pragma warning disable CA5350 // RFC 6238's default and what authenticator apps compute; HMAC-SHA1 is not broken as a MAC.
        var hash = HMACSHA1.HashData(key, message);
#pragma warning restore CA5350
        var offset = hash[^1] & 0x0F;
        var value = (BinaryPrimitives.ReadInt32BigEndian(hash.AsSpan(offset)) & 0x7FFFFFFF) % 1_000_000;
        return value.ToString("000000", CultureInfo.InvariantCulture);
    }

    /// <returns>The key bytes, or null when the text is not base32.</returns>
    public static byte[]? Base32Decode(string text)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var output = new List<byte>(text.Length * 5 / 8);
        int buffer = 0, bits = 0;
        foreach (var c in text.TrimEnd('='))
        {
            var index = alphabet.IndexOf(char.ToUpperInvariant(c), StringComparison.Ordinal);
            if (index < 0)
            {
                return null;
            }

            buffer = ((buffer << 5) | index) & 0xFFFF;
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
