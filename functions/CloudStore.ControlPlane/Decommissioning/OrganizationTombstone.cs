namespace CloudStore.ControlPlane.Decommissioning;

/// <summary>
/// What the directory keeps of a deleted organisation, beside its audit entries: who deleted it and when, and how far
/// its deletion has come. Each step records its progress here, so a crash or an unreachable key server or region
/// resumes where it stopped. The name is kept only as a SHA-256 (an organisation's name may be a person's): operations
/// can still confirm a name they are given.
/// </summary>
public sealed class OrganizationTombstone
{
    public Guid OrganizationId { get; set; }

    /// <summary>SHA-256 of the name (UTF-8), upper-case hex.</summary>
    public required string NameSha256 { get; set; }

    public string? HomeRegion { get; set; }

    public DateTimeOffset DeletedAt { get; set; }

    /// <summary>Who deleted it: <c>user:{id}</c> (an administrator) or <c>system:operations</c>.</summary>
    public required string DeletedBy { get; set; }

    /// <summary>The regions whose key server has destroyed the organisation's key, space-separated, in catalogue order.</summary>
    public string KeysDestroyedIn { get; set; } = "";

    /// <summary>When the key was destroyed in the last region: from then on nothing of the organisation unwraps.</summary>
    public DateTimeOffset? KeysDestroyedAt { get; set; }

    /// <summary>When every region's storage and index held nothing of it any more.</summary>
    public DateTimeOffset? StorageClearedAt { get; set; }

    /// <summary>When its directory rows (users, devices, cameras, licences, holds, notifications) were removed: deletion complete.</summary>
    public DateTimeOffset? PurgedAt { get; set; }

    public IReadOnlyList<string> KeysDestroyedRegions => KeysDestroyedIn.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}
