using System.Text.Json.Serialization;

namespace CloudStore.Contracts;

/// <summary>
/// A device asks for upload credentials for one of its cameras. Where the region grants per object
/// (S3 without STS), it names the objects it is about to create (at most <see cref="MaxObjectNames"/>).
/// </summary>
public sealed record CredentialsRequest(Guid CameraId, IReadOnlyList<string>? ObjectNames = null)
{
    public const int MaxObjectNames = 100;
}

/// <summary>The organisation's current RSA-2048 public key in a region (SubjectPublicKeyInfo, base64).</summary>
public sealed record PublicKeyResponse(string KeyId, int Version, string PublicKey);

/// <summary>
/// A grant to create new objects in one camera's storage, and nothing else, until <see cref="ExpiresAt"/>.
/// For Azure: <see cref="ContainerUrl"/> plus the SAS query <see cref="SasToken"/> (create-only).
/// For S3: either <see cref="PutUrls"/> (a presigned URL per requested object name) or the access key
/// triple, bucket, endpoint and prefix the camera writes under. Every S3 PUT must send <c>If-None-Match: *</c>.
/// </summary>
public sealed record CredentialsResponse(
    Guid OrganizationId,
    Guid CameraId,
    string Region,
    string StorageKind,
    DateTimeOffset ExpiresAt,
    DateTimeOffset RenewAt,
    PublicKeyResponse PublicKey,
    string? ContainerUrl = null,
    string? SasToken = null,
    [property: JsonPropertyName("accessKeyId")] string? AccessKeyId = null,
    [property: JsonPropertyName("secretAccessKey")] string? SecretAccessKey = null,
    [property: JsonPropertyName("sessionToken")] string? SessionToken = null,
    string? Bucket = null,
    string? Url = null,
    string? Prefix = null,
    IReadOnlyDictionary<string, string>? PutUrls = null)
{
    public const string AzureBlob = "azure-blob";
    public const string S3 = "s3";

    /// <summary>Never print the secret parts.</summary>
    public override string ToString() => $"CredentialsResponse {{ CameraId = {CameraId}, Region = {Region}, StorageKind = {StorageKind}, ExpiresAt = {ExpiresAt:O} }}";
}

/// <summary>One encrypted file as stored: an init segment or a media segment.</summary>
/// <param name="Sha256">SHA-256 of the ciphertext as stored, hex.</param>
/// <param name="Iv">The AES-CBC IV, hex (32 digits).</param>
public sealed record StoredObject(string ObjectName, long Size, string Sha256, Guid KeyId, string Iv);

/// <summary>
/// One media segment's metadata, posted after the upload (step E). <see cref="InitObjectName"/> names
/// the init segment it plays with, registered in the same batch or before.
/// </summary>
public sealed record SegmentMetadata(
    long Sequence,
    DateTimeOffset StartTime,
    int DurationMs,
    StoredObject Media,
    string InitObjectName,
    string Codec,
    int Width,
    int Height);

/// <summary>
/// A data key as the camera wrapped it (the bytes it also stores as <c>keys/{id}.bin</c>, base64), sent with
/// the batch that first uses the key, so the index need not read it back from storage.
/// </summary>
public sealed record WrappedKeyUpload(Guid KeyId, string Wrapped);

/// <summary>
/// A batch of metadata for one camera, all accepted or none. <see cref="WrappedKeys"/> is optional: a key
/// not in it is read from the camera's storage, as cameras before it did.
/// </summary>
public sealed record SegmentBatch(Guid CameraId, IReadOnlyList<StoredObject> InitSegments, IReadOnlyList<SegmentMetadata> Segments, IReadOnlyList<WrappedKeyUpload>? WrappedKeys = null)
{
    public const int MaxSegments = 500;
    public const int MaxInitSegments = 20;
    public const int MaxWrappedKeys = 20;

    /// <summary>An RSA-2048 wrap with its small header is well under this.</summary>
    public const int MaxWrappedKeyBytes = 1024;
}

public sealed record SegmentBatchResponse(int Indexed, int AlreadyIndexed);

public sealed record OrganizationRegionRequest(string Region);
