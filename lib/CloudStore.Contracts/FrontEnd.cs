using System.Security.Cryptography;
using System.Text;

namespace CloudStore.Contracts;

/// <summary>
/// How a trusted front end (the web player's server) tells the API which browser a sign-in comes from,
/// so that the per-client limiter and the audit log see people, not the front end. The API believes the
/// address only with the front end's key, a random secret both sides read from a file.
/// </summary>
public static class FrontEnd
{
    public const string KeyHeader = "CloudStore-Front-End-Key";

    public const string ClientAddressHeader = "CloudStore-Client-Address";

    /// <summary>Reads a key file: its trimmed text. Throws when the file is missing or too short to be a secret.</summary>
    public static string ReadKey(string file)
    {
        var key = File.ReadAllText(file).Trim();
        if (key.Length < 32)
        {
            throw new InvalidOperationException($"The front-end key in {file} is shorter than 32 characters.");
        }

        return key;
    }

    /// <summary>Makes a key file (0600) with 256 random bits, unless it exists.</summary>
    public static void EnsureKeyFile(string file)
    {
        if (!File.Exists(file))
        {
            PrivateFile.Write(file, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        }
    }

    /// <summary>Constant-time comparison of a presented key with the expected one.</summary>
    public static bool Matches(string? presented, string expected) =>
        presented is not null &&
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}
