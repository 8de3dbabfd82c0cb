using System.Text.RegularExpressions;

namespace CloudStore.ControlPlane.Licences;

public enum LicenceState
{
    /// <summary>Added, not held by a camera.</summary>
    Free,

    /// <summary>Held by one enabled camera (<see cref="Licence.CameraId"/>).</summary>
    Allocated,

    /// <summary>Never allocated within the organisation's allocation window; can no longer be used.</summary>
    Lapsed,
}

/// <summary>One camera licence of an organisation: added by operations, allocated by enabling a camera.</summary>
public sealed class Licence
{
    public Guid Id { get; set; }

    public Guid OrganizationId { get; set; }

    /// <summary><c>count</c> (added by number) or <c>partner-key</c>.</summary>
    public required string Source { get; set; }

    /// <summary>SHA-256 of the normalised partner key: a key adds its licence once, in any organisation.</summary>
    public byte[]? PartnerKeyHash { get; set; }

    /// <summary>The key's last group, so a person can tell keys apart without the key being stored.</summary>
    public string? PartnerKeyHint { get; set; }

    public LicenceState State { get; set; }

    public Guid? CameraId { get; set; }

    public DateTimeOffset AddedAt { get; set; }

    public DateTimeOffset? AllocatedAt { get; set; }

    /// <summary>Set by the first allocation: a licence allocated once within the window never lapses.</summary>
    public DateTimeOffset? FirstAllocatedAt { get; set; }

    public DateTimeOffset? LapsedAt { get; set; }

    public string? LapseReason { get; set; }
}

/// <summary>The licence rules, without I/O.</summary>
public static partial class LicenceRules
{
    /// <summary>Licences must be allocated within this long after the organisation's activation.</summary>
    public static readonly TimeSpan AllocationWindow = TimeSpan.FromDays(30);

    public const string CountSource = "count";
    public const string PartnerKeySource = "partner-key";
    public const int MaxCount = 1000;

    /// <summary>
    /// A partner's licence key: <c>CSL-</c> and four groups of five characters of Crockford's base 32 (no I, L,
    /// O or U), e.g. <c>CSL-7K3QF-M9TXA-2B4RD-Y8WNP</c>; case and surrounding spaces are ignored.
    /// </summary>
    public static bool TryNormalisePartnerKey(string? text, out string key)
    {
        key = (text ?? "").Trim().ToUpperInvariant();
        return PartnerKey().IsMatch(key);
    }

    public static DateTimeOffset WindowEnd(DateTimeOffset activatedAt) => activatedAt + AllocationWindow;

    /// <summary>Whether a free licence lapses at <paramref name="now"/>: never allocated, and the window is over.</summary>
    public static bool Lapses(DateTimeOffset? firstAllocatedAt, DateTimeOffset activatedAt, DateTimeOffset now) =>
        firstAllocatedAt is null && now >= WindowEnd(activatedAt);

    public static string LapseReason(DateTimeOffset activatedAt) =>
        $"Not allocated within {AllocationWindow.TotalDays:0} days of activation (the window ended {WindowEnd(activatedAt):yyyy-MM-dd HH:mm} UTC).";

    [GeneratedRegex(@"^CSL(-[0-9A-HJKMNP-TV-Z]{5}){4}\z", RegexOptions.CultureInvariant)]
    private static partial Regex PartnerKey();
}
