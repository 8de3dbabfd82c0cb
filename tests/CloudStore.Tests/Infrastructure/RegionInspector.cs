extern alias keyserver;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using CloudStore.Contracts;
using CloudStore.Contracts.Envelope;
using CloudStore.Functions.Regional;
using CloudStore.Functions.Segments;
using CloudStore.LocalStack;
using keyserver::CloudStore.KeyServer.KeyStores;
using Microsoft.EntityFrameworkCore;

namespace CloudStore.Tests.Infrastructure;

/// <summary>
/// The test's privileged view of a region, as an operator of the platform has it: the storage account
/// with its key, the index database file and the key store folder. Used only to check what the system
/// stored; the system under test never gets these powers through it.
/// </summary>
public sealed class RegionInspector(LocalCloud cloud, string region)
{
    public BlobServiceClient Storage { get; } = new(cloud.Azurite.Account(region).ConnectionString, new BlobClientOptions
    {
        Transport = new HttpClientTransport(new HttpClient(TrustedHttp.CreateHandler(cloud.Certificates.CaCertificate))),
    });

    public BlobContainerClient Container(Guid cameraId) => Storage.GetBlobContainerClient(CameraStorage.ContainerName(cameraId));

    /// <summary>Every blob of the camera with its ETag: a fingerprint of the camera's storage.</summary>
    public async Task<SortedDictionary<string, string>> BlobsAsync(Guid cameraId)
    {
        var blobs = new SortedDictionary<string, string>(StringComparer.Ordinal);
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

    public async Task<byte[]> DownloadAsync(Guid cameraId, string objectName) =>
        (await Container(cameraId).GetBlobClient(objectName).DownloadContentAsync()).Value.Content.ToArray();

    /// <summary>The region's index, read-only.</summary>
    public IndexDbContext Index() =>
        new(new DbContextOptionsBuilder<IndexDbContext>().UseSqlite($"Data Source={cloud.IndexDatabase(region)};Mode=ReadOnly").Options);

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
