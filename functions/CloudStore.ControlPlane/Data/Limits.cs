namespace CloudStore.ControlPlane.Data;

/// <summary>Input limits, enforced at the edge and mirrored in column sizes.</summary>
public static class Limits
{
    public const int NameLength = 100;
    public const int SerialLength = 32;
    public const int FirmwareLength = 32;
    public const int EmailLength = 254;
    public const int AssertionIdLength = 128;

    /// <summary>NIST SP 800-63B: at least 8 (we ask 10), and allow at least 64 so passphrases fit.</summary>
    public const int PasswordMinLength = 10;
    public const int PasswordMaxLength = 256;

    /// <summary>An identity provider's ID token handed over at single sign-on (a signed JWT; a few kilobytes at most).</summary>
    public const int ExternalTokenLength = 16 * 1024;

    /// <summary>Largest request body any directory endpoint accepts.</summary>
    public const long MaxRequestBodyBytes = 64 * 1024;
}
