extern alias keyserver;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using CloudStore.Contracts;
using CloudStore.Contracts.Envelope;
using CloudStore.ControlPlane.Regional;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Recordings;
using CloudStore.LocalStack;
using keyserver::CloudStore.KeyServer.KeyStores;
using Microsoft.EntityFrameworkCore;

namespace CloudStore.Tests.Infrastructure;

/// <summary>
/// The test's privileged view of a region, as an operator of the platform has it: the storage account
/// with its key (Azure) or the S3 server's data folder, the index database file and the key store
/// folder. Used only to check what the system stored; the system under test never gets these powers.
/// </summary>
public sealed class RegionInspector(LocalCloud cloud, string region)
{
    const string S3ObjectSuffix = "._S3rver_object";

    public bool IsS3 { get; } = cloud.Options.S3Regions.Contains(region);

    public BlobServiceClient Storage { get; } = new(cloud.Azurite.Account(region).ConnectionString, new BlobClientOptions
    {
        Transport = new HttpClientTransport(new HttpClient(TrustedHttp.CreateHandler(cloud.Certificates.CaCertificate))),
    });

    public BlobContainerClient Container(Guid cameraId) => Storage.GetBlobContainerClient(CameraLayout.Name(cameraId));

    /// <summary>The S3 server's files of one camera (s3rver keeps each object as KEY._S3rver_object).</summary>
    string S3Folder(Guid cameraId) => Path.Combine(cloud.Options.StateFolder, "s3", S3Server.BucketName(region), CameraLayout.Name(cameraId));

    /// <summary>Every object of the camera with a fingerprint of its content: a fingerprint of the camera's storage.</summary>
    public async Task<SortedDictionary<string, string>> BlobsAsync(Guid cameraId)
    {
        var blobs = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (IsS3)
        {
            var folder = S3Folder(cameraId);
            foreach (var file in Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*" + S3ObjectSuffix, SearchOption.AllDirectories) : [])
            {
                var name = Path.GetRelativePath(folder, file)[..^S3ObjectSuffix.Length].Replace('\\', '/');
                blobs[name] = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(await File.ReadAllBytesAsync(file)));
            }

            return blobs;
        }

        var container = Container(cameraId);
        if (!await container.ExistsAsync())
        {
            return blobs;
        }

        await foreach (var blob in container.GetBlobsAsync())
        {
            blobs[blob.Name] = blob.Properties.ETag?.ToString() ?? "";
        }

        return blobs;
    }

    public async Task<byte[]> DownloadAsync(Guid cameraId, string objectName) => IsS3
        ? await File.ReadAllBytesAsync(Path.Combine(S3Folder(cameraId), objectName) + S3ObjectSuffix)
        : (await Container(cameraId).GetBlobClient(objectName).DownloadContentAsync()).Value.Content.ToArray();

    /// <summary>
    /// Changes one byte of a stored object in place, as someone with write access to the storage account or bucket
    /// could (the same size, so nothing but its content tells): Azure through the account key, S3 in the server's files.
    /// </summary>
    public async Task FlipByteAsync(Guid cameraId, string objectName, int offset)
    {
        var bytes = await DownloadAsync(cameraId, objectName);
        bytes[offset] ^= 0x01;
        if (IsS3)
        {
            await File.WriteAllBytesAsync(Path.Combine(S3Folder(cameraId), objectName) + S3ObjectSuffix, bytes);
            return;
        }

        await Container(cameraId).GetBlobClient(objectName).UploadAsync(new BinaryData(bytes), overwrite: true);
    }

        /// <summary>Whether the region's storage holds anything of the camera.</summary>
    public async Task<bool> HasAnythingOfAsync(Guid cameraId) =>
        IsS3 ? Directory.Exists(S3Folder(cameraId)) : await Container(cameraId).ExistsAsync();

    /// <summary>The region's index, read-only.</summary>
    public IndexDbContext Index()
    {
        var (provider, connectionString) = cloud.IndexConnection(region);
        return new(DatabaseProvider.Options<IndexDbContext>(provider, provider == DatabaseProvider.Sqlite ? connectionString + ";Mode=ReadOnly" : connectionString));
    }

    public async Task<List<SegmentRow>> SegmentsAsync(Guid cameraId)
    {
        await using var index = Index();
        return await index.Segments.Where(s => s.CameraId == cameraId).OrderBy(s => s.Sequence).ToListAsync();
    }

    /// <summary>Unwraps a stored wrapped key with the region's key store, as the key server does.</summary>
    public async Task<BindingRecord> UnwrapAsync(Guid cameraId, Guid keyId) =>
        await new LocalKeyStore(cloud.KeyStoreRoot, TimeProvider.System).UnwrapAsync(WrappedKey.Parse(await DownloadAsync(cameraId, WrappedKey.ObjectName(keyId))), CancellationToken.None);

    /// <summary>Whether the region's key store holds anything of the organisation.</summary>
    public bool HasKeysOf(Guid organizationId) => File.Exists(Path.Combine(cloud.KeyStoreRoot, region, $"{organizationId:N}.json"));
}
