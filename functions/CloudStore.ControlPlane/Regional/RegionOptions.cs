namespace CloudStore.ControlPlane.Regional;

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
    /// <summary><c>azure-blob</c> or <c>s3</c>.</summary>
    public string Kind { get; set; } = "azure-blob";

    /// <summary>Azure: an account-key connection string; grants are service SAS signed with the account key.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// Azure without account keys: the blob endpoint, reached with an Entra ID identity; grants are
    /// user-delegation SAS. Takes precedence over <see cref="ConnectionString"/>.
    /// </summary>
    public string? BlobEndpoint { get; set; }

    /// <summary>With <see cref="BlobEndpoint"/>: <c>managed-identity</c> (Azure) or <c>fake-entra-local</c> (the local emulator only).</summary>
    public string Credential { get; set; } = "managed-identity";

    /// <summary>S3: the endpoint (for a local or S3-compatible server); unset for AWS itself.</summary>
    public string? ServiceUrl { get; set; }

    /// <summary>S3: the region's bucket; each camera writes under its own prefix.</summary>
    public string? Bucket { get; set; }

    /// <summary>S3: the AWS region of the bucket (signing region).</summary>
    public string AwsRegion { get; set; } = "us-east-1";

    /// <summary>S3: the control plane's own key (locally); in AWS the function's role is used instead.</summary>
    public string? AccessKeyId { get; set; }

    public string? SecretAccessKey { get; set; }

    /// <summary>
    /// S3: <c>presigned</c> (PUT URLs per object, where STS does not exist) or <c>sts</c> (AssumeRole with
    /// a session policy scoped to the camera's prefix, in AWS).
    /// </summary>
    public string GrantMode { get; set; } = "presigned";

    /// <summary>S3 with STS: the role the session policy narrows.</summary>
    public string? RoleArn { get; set; }
}

public sealed class RegionIndexOptions
{
    /// <summary><c>sqlite</c> (locally: one file per region) or <c>postgresql</c> (a regional server).</summary>
    public string Provider { get; set; } = Data.DatabaseProvider.Sqlite;

    /// <summary>The region's index database.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>How to sign in to a PostgreSQL index: <c>password</c> or <c>managed-identity</c> (as <c>Directory:Credential</c>).</summary>
    public string Credential { get; set; } = Hosting.DatabaseCredential.Password;
}
