using System.Globalization;

namespace CloudStore.ControlPlane.Devices;

/// <summary>
/// Device firmware versions (AXIS OS style, <c>11.11.73</c>, <c>10.12.228.1</c>), compared numerically
/// part by part: 11.11.73 &lt; 11.11.100 &lt; 12.0. Missing parts count as zero.
/// </summary>
public sealed record FirmwareVersion(IReadOnlyList<int> Parts) : IComparable<FirmwareVersion>
{
    /// <summary>The oldest firmware on which cloud storage may be enabled.</summary>
    public static readonly FirmwareVersion MinimumForCloudStorage = Parse("11.11.73");

    public static bool TryParse(string? text, out FirmwareVersion version)
    {
        version = new FirmwareVersion([]);
        var pieces = (text ?? string.Empty).Split('.');
        if (pieces.Length is < 2 or > 4)
        {
            return false;
        }

        var parts = new int[pieces.Length];
        for (var i = 0; i < pieces.Length; i++)
        {
            if (pieces[i].Length is 0 or > 6 || !pieces[i].All(char.IsAsciiDigit)
                || !int.TryParse(pieces[i], NumberStyles.None, CultureInfo.InvariantCulture, out parts[i]))
            {
                return false;
            }
        }

        version = new FirmwareVersion(parts);
        return true;
    }

    public static FirmwareVersion Parse(string text) =>
        TryParse(text, out var version) ? version : throw new FormatException($"'{text}' is not a firmware version.");

    public int CompareTo(FirmwareVersion? other)
    {
        if (other is null)
        {
            return 1;
        }

        for (var i = 0; i < Math.Max(Parts.Count, other.Parts.Count); i++)
        {
            var difference = Parts.ElementAtOrDefault(i).CompareTo(other.Parts.ElementAtOrDefault(i));
            if (difference != 0)
            {
                return difference;
            }
        }

        return 0;
    }

    public bool SupportsCloudStorage => CompareTo(MinimumForCloudStorage) >= 0;

    /// <summary>
    /// Why a device whose last reported version is <paramref name="reported"/> may not use cloud storage, in
    /// words naming both versions; null when it may. Null or unparsable (never stored, but old rows) refuses.
    /// </summary>
    public static string? CloudStorageRefusal(string? reported) =>
        reported is null || !TryParse(reported, out var version)
            ? $"The device has not reported its firmware version yet; cloud storage needs AXIS OS {MinimumForCloudStorage} or later. The device reports it when it signs in (its next token request)."
            : version.SupportsCloudStorage
                ? null
                : $"The device reported AXIS OS {version}; cloud storage needs {MinimumForCloudStorage} or later. Upgrade the device: it reports the new version at its next token request.";

    public override string ToString() => string.Join('.', Parts);

    public static bool operator <(FirmwareVersion left, FirmwareVersion right) => left.CompareTo(right) < 0;

    public static bool operator >(FirmwareVersion left, FirmwareVersion right) => left.CompareTo(right) > 0;

    public static bool operator <=(FirmwareVersion left, FirmwareVersion right) => left.CompareTo(right) <= 0;

    public static bool operator >=(FirmwareVersion left, FirmwareVersion right) => left.CompareTo(right) >= 0;

    public bool Equals(FirmwareVersion? other) => other is not null && CompareTo(other) == 0;

    public override int GetHashCode() => ToString().TrimEnd('0', '.').GetHashCode(StringComparison.Ordinal);
}
