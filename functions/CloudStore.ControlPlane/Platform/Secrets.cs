using System.Security.Cryptography;
using System.Text;
using Microsoft.IdentityModel.Tokens;

namespace CloudStore.ControlPlane.Platform;

/// <summary>Random bearer secrets (refresh tokens, challenges, enrolment codes) and the hashes stored in their place.</summary>
public static class Secrets
{
    /// <summary>A new 256-bit secret, base64url.</summary>
    public static string NewToken() => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));

    /// <summary>
    /// A 120-bit one-time code in groups a person can type: 24 characters of Crockford-style base32.
    /// </summary>
    public static string NewEnrolmentCode()
    {
        const string alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        var chars = RandomNumberGenerator.GetItems<char>(alphabet, 24);
        return string.Join('-', Enumerable.Range(0, 6).Select(i => new string(chars, i * 4, 4)));
    }

    /// <summary>Normalises a typed enrolment code (case, dashes, spaces) before hashing.</summary>
    public static string NormaliseEnrolmentCode(string code) =>
        new([.. code.Where(char.IsLetterOrDigit).Select(char.ToUpperInvariant)]);

    /// <summary>SHA-256: the secrets are random and long, so a plain hash is enough to make a stolen table useless.</summary>
    public static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}
