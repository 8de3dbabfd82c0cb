namespace CloudStore.Functions.Regional;

/// <summary>
/// The region catalogue (configuration section <c>Regions</c>): for each region id, where its
/// recordings, index rows and keys are kept. Configuration, not code: a deployment lists only the
/// regions it runs.
/// </summary>
public sealed class RegionCatalogOptions : Dictionary<string, RegionOptions>
{
    public const string Section = "Regions";

    public RegionCatalogOptions()
        : base(StringComparer.Ordinal)
    {
    }
}

public sealed class RegionOptions
{
    public RegionStorageOptions Storage { get; set; } = new();

    public RegionIndexOptions Index { get; set; } = new();
}

public sealed class RegionStorageOptions
{
    /// <summary><c>azure-blob</c> (S3 follows).</summary>
    public string Kind { get; set; } = "azure-blob";

    /// <summary>An account-key connection string: grants are service SAS signed with the account key.</summary>
    public string? ConnectionString { get; set; }
}

public sealed class RegionIndexOptions
{
    /// <summary>The region's index database (SQLite locally: one file per region).</summary>
    public string ConnectionString { get; set; } = "";
}
