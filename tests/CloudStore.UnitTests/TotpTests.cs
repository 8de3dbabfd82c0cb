using System.Text;
using CloudStore.LocalStack;
using Xunit;

namespace CloudStore.UnitTests;

/// <summary>The tests' authenticator must compute what a phone computes: RFC 6238 Appendix B, SHA-1 rows.</summary>
public sealed class TotpTests
{
    [Theory]
    [InlineData(59, "94287082")]
    [InlineData(1111111109, "07081804")]
    [InlineData(1234567890, "89005924")]
    [InlineData(20000000000, "65353130")]
    public void Code_MatchesRfc6238TestVectors(long unixSeconds, string expected)
    {
        var secret = Base32("12345678901234567890"u8.ToArray());

        Assert.Equal(expected, Totp.Code(secret, DateTimeOffset.FromUnixTimeSeconds(unixSeconds), digits: 8));
    }

    static string Base32(byte[] data)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var output = new StringBuilder();
        int buffer = 0, bits = 0;
        foreach (var b in data)
        {
            buffer = (buffer << 8) | b;
            bits += 8;
            while (bits >= 5)
            {
                output.Append(alphabet[(buffer >> (bits - 5)) & 31]);
                bits -= 5;
            }
        }

        if (bits > 0)
        {
            output.Append(alphabet[(buffer << (5 - bits)) & 31]);
        }

        return output.ToString();
    }
}
