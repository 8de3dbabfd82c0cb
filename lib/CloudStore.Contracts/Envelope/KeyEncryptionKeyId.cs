using System.Globalization;

namespace CloudStore.Contracts.Envelope;

/// <summary>
/// Names one version of an organisation's RSA key in one region: <c>{region}/{organisation id}/v{version}</c>.
/// The name travels in every wrapped key, so the key server knows which private key to use and can
/// check it against the binding record's organisation.
/// </summary>
public sealed record KeyEncryptionKeyId(string Region, Guid OrganizationId, int Version)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Region}/{OrganizationId:N}/v{Version}");

    public static bool TryParse(string? text, out KeyEncryptionKeyId id)
    {
        id = null!;
        var parts = (text ?? string.Empty).Split('/');
        if (parts.Length != 3 || !Regions.All.Contains(parts[0]) || !Guid.TryParseExact(parts[1], "N", out var organization)
            || !parts[2].StartsWith('v') || !int.TryParse(parts[2].AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var version) || version < 1)
        {
            return false;
        }

        id = new KeyEncryptionKeyId(parts[0], organization, version);
        return true;
    }
}
