using System.Globalization;

namespace CloudStore.ControlPlane.Platform;

/// <summary>
/// The times the API accepts wherever a request names one (a range to play, list or hold, a segment's start): none
/// before 2020, when the oldest recording a camera may index begins, and none after 2100. Bounding them at the edge
/// keeps the arithmetic behind them (a playlist reaches one segment's length before 'from') inside
/// <see cref="DateTimeOffset"/>'s range: 0001-01-01 used to overflow into a 500.
/// </summary>
public static class TimeBounds
{
    public static readonly DateTimeOffset Earliest = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);
    public static readonly DateTimeOffset Latest = new(2100, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The allowed range as a problem states it: "2020-01-01T00:00:00Z to 2100-01-01T00:00:00Z".</summary>
    public static string Allowed { get; } = string.Create(CultureInfo.InvariantCulture, $"{Earliest.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ} to {Latest.UtcDateTime:yyyy-MM-ddTHH:mm:ssZ}");

    public static bool Contains(DateTimeOffset time) => time >= Earliest && time <= Latest;
}
