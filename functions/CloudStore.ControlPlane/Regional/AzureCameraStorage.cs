using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Sas;
using CloudStore.Contracts;

namespace CloudStore.ControlPlane.Regional;

/// <summary>
/// A region's Azure Blob storage: each camera has its own container (<c>cam-{camera id}</c>), so a
/// container-scoped SAS is a camera-scoped grant. With an Entra ID identity (no account key in our
/// hands) grants are user-delegation SAS; with an account key, service SAS.
/// </summary>
public sealed class AzureCameraStorage(BlobServiceClient service, bool userDelegation) : ICameraStorage
{
    public static string ContainerName(Guid cameraId) => CameraLayout.Name(cameraId);

    public static AzureCameraStorage Create(RegionStorageOptions options, string? caCertificateFile, TimeProvider? time = null)
    {
        var clientOptions = new BlobClientOptions { Transport = new HttpClientTransport(new HttpClient(TrustedHttp.CreateHandler(caCertificateFile))) };
        if (!string.IsNullOrEmpty(options.BlobEndpoint))
        {
            var endpoint = new Uri(options.BlobEndpoint);
            TokenCredential credential = options.Credential switch
            {
                "fake-entra-local" => new FakeEntraIdCredential(endpoint, time ?? TimeProvider.System),
                "managed-identity" => Hosting.AzureIdentity.ManagedIdentity(),
                var other => throw new InvalidOperationException($"Unknown storage credential '{other}'."),
            };
            return new AzureCameraStorage(new BlobServiceClient(endpoint, credential, clientOptions), userDelegation: true);
        }

        if (string.IsNullOrEmpty(options.ConnectionString))
        {
            throw new InvalidOperationException("An azure-blob region needs Storage:BlobEndpoint or Storage:ConnectionString.");
        }

        return new AzureCameraStorage(new BlobServiceClient(options.ConnectionString, clientOptions), userDelegation: false);
    }

    public Task<StorageGrant> GrantAsync(Guid cameraId, IReadOnlyList<string> objectNames, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken) =>
        GrantCreateOnlyAsync(cameraId, now, expiresAt, cancellationToken);

    /// <summary>
    /// A SAS that lets its holder create new blobs in the camera's container and nothing else: no read,
    /// list, delete or overwrite (<c>sp=c</c>), HTTPS only, valid from five minutes ago (clock skew) to <paramref name="expiresAt"/>.
    /// </summary>
    public async Task<StorageGrant> GrantCreateOnlyAsync(Guid cameraId, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        var container = service.GetBlobContainerClient(ContainerName(cameraId));
        await Guarded(() => container.CreateIfNotExistsAsync(cancellationToken: cancellationToken));
        var sas = new BlobSasBuilder
        {
            BlobContainerName = container.Name,
            Resource = "c",
            StartsOn = now.AddMinutes(-5),
            ExpiresOn = expiresAt,
            Protocol = SasProtocol.Https,
        };
        sas.SetPermissions(BlobContainerSasPermissions.Create);
        string token;
        if (userDelegation)
        {
            // Signed with a key Entra ID derives for this window, not with an account key we would have to hold.
            var key = await Guarded(() => service.GetUserDelegationKeyAsync(sas.StartsOn, sas.ExpiresOn, cancellationToken));
            token = sas.ToSasQueryParameters(key.Value, service.AccountName).ToString();
        }
        else
        {
            token = container.GenerateSasUri(sas).Query.TrimStart('?');
        }

        return new StorageGrant(CredentialsResponse.AzureBlob, ContainerUrl: container.Uri.ToString(), SasToken: token);
    }

    public async Task<IReadOnlyDictionary<string, string>> ReadUrlsAsync(
        Guid cameraId, IReadOnlyCollection<string> objectNames, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        var container = service.GetBlobContainerClient(ContainerName(cameraId));
        UserDelegationKey? key = userDelegation
            ? (await Guarded(() => service.GetUserDelegationKeyAsync(now.AddMinutes(-5), expiresAt, cancellationToken))).Value
            : null;
        var urls = new Dictionary<string, string>(objectNames.Count, StringComparer.Ordinal);
        foreach (var name in objectNames)
        {
            var sas = new BlobSasBuilder
            {
                BlobContainerName = container.Name,
                BlobName = name,
                Resource = "b",
                StartsOn = now.AddMinutes(-5),
                ExpiresOn = expiresAt,
                Protocol = SasProtocol.Https,
            };
            sas.SetPermissions(BlobSasPermissions.Read);
            var blob = container.GetBlobClient(name);
            urls[name] = key is null
                ? blob.GenerateSasUri(sas).ToString()
                : new BlobUriBuilder(blob.Uri) { Sas = sas.ToSasQueryParameters(key, service.AccountName) }.ToUri().ToString();
        }

        return urls;
    }

    /// <returns>The object's size, or null if it does not exist.</returns>
    public async Task<long?> SizeAsync(Guid cameraId, string objectName, CancellationToken cancellationToken)
    {
        try
        {
            var properties = await Guarded(() => service.GetBlobContainerClient(ContainerName(cameraId)).GetBlobClient(objectName).GetPropertiesAsync(cancellationToken: cancellationToken));
            return properties.Value.ContentLength;
        }
        catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.BlobNotFound || e.ErrorCode == BlobErrorCode.ContainerNotFound || e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>
    /// List Blobs under the names' common prefix, a page at a time. Azure has no "start after" (its continuation marker is
    /// opaque), so the listing starts at the prefix's first blob: blobs before the first name count among the others, and a
    /// page asks for as many as the listing may take, so that one request usually covers it. Azure lists in UTF-8 byte order.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, long>> ListSizesAsync(Guid cameraId, IReadOnlyList<string> names, int maxOthers, CancellationToken cancellationToken)
    {
        var listing = new NameRangeListing(names, maxOthers);
        var container = service.GetBlobContainerClient(ContainerName(cameraId));
        try
        {
            await Guarded(() => ListAsync(container, listing, Math.Min(names.Count + maxOthers + 1, 5000), cancellationToken));
        }
        catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.ContainerNotFound || e.Status == 404)
        {
            // No container: the camera has stored nothing here.
        }

        return listing.Sizes;
    }

    static async Task<bool> ListAsync(BlobContainerClient container, NameRangeListing listing, int pageSize, CancellationToken cancellationToken)
    {
        await foreach (var page in container.GetBlobsAsync(prefix: listing.CommonPrefix, cancellationToken: cancellationToken).AsPages(pageSizeHint: pageSize))
        {
            foreach (var blob in page.Values)
            {
                if (!listing.Take(blob.Name, blob.Properties.ContentLength))
                {
                    return true;
                }
            }
        }

        return true;
    }

    /// <returns>A small object's bytes (a wrapped key), or null if missing or larger than <paramref name="maxBytes"/>.</returns>
    public async Task<byte[]?> ReadSmallAsync(Guid cameraId, string objectName, int maxBytes, CancellationToken cancellationToken)
    {
        var size = await SizeAsync(cameraId, objectName, cancellationToken);
        if (size is null or 0 || size > maxBytes)
        {
            return null;
        }

        var content = await Guarded(() => service.GetBlobContainerClient(ContainerName(cameraId)).GetBlobClient(objectName).DownloadContentAsync(cancellationToken));
        return content.Value.Content.ToArray();
    }

    /// <summary>How many blob deletes run at once.</summary>
    public const int DeletesInParallel = 16;

    /// <summary>
    /// One DELETE per blob, a few at once. A blob batch (<c>BlobBatchClient</c>) would send up to 256 in one
    /// request, but Azure.Storage.Blobs.Batch is not in the package feed this build restores from (its versions
    /// must match Azure.Storage.Blobs 12.17.0); the parallel deletes give the same result and are idempotent alike.
    /// </summary>
    public async Task DeleteAsync(Guid cameraId, IReadOnlyCollection<string> objectNames, CancellationToken cancellationToken)
    {
        var container = service.GetBlobContainerClient(ContainerName(cameraId));
        await Parallel.ForEachAsync(objectNames, new ParallelOptions { MaxDegreeOfParallelism = DeletesInParallel, CancellationToken = cancellationToken }, async (name, token) =>
        {
            try
            {
                await Guarded(() => container.GetBlobClient(name).DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: token));
            }
            catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.ContainerNotFound || e.ErrorCode == BlobErrorCode.BlobNotFound || e.Status == 404)
            {
                // Already gone: what the sweep wanted.
            }
        });
    }

    public async Task<int> DeleteAllAsync(Guid cameraId, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        var container = service.GetBlobContainerClient(ContainerName(cameraId));
        var names = await Guarded(() => ListNamesAsync(container, max + 1, cancellationToken));
        var deleting = names.Take(max).ToList();
        await DeleteAsync(cameraId, deleting, cancellationToken);
        if (names.Count <= max)
        {
            // Everything listed is gone: the container goes too, so the account keeps nothing of the camera.
            try
            {
                await Guarded(() => container.DeleteIfExistsAsync(cancellationToken: cancellationToken));
            }
            catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.ContainerBeingDeleted || e.Status == 409)
            {
                // Another sweep deleted it a moment ago.
            }
        }

        return deleting.Count;
    }

    /// <summary>Up to <paramref name="max"/> blob names of the container; none when the container does not exist.</summary>
    static async Task<List<string>> ListNamesAsync(BlobContainerClient container, int max, CancellationToken cancellationToken)
    {
        var names = new List<string>();
        try
        {
            await foreach (var blob in container.GetBlobsAsync(cancellationToken: cancellationToken))
            {
                names.Add(blob.Name);
                if (names.Count == max)
                {
                    break;
                }
            }
        }
        catch (RequestFailedException e) when (e.ErrorCode == BlobErrorCode.ContainerNotFound || e.Status == 404)
        {
            // No container: nothing of the camera was ever stored here, or it is already gone.
        }

        return names;
    }

    /// <summary>Turns "storage did not answer" into <see cref="StorageUnavailableException"/>, answered with 503.</summary>
    static async Task<T> Guarded<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (Unavailable(e))
        {
            throw new StorageUnavailableException(e);
        }
    }

    /// <summary>
    /// Storage did not answer, or answered 5xx. The client's retry policy, once it gives up, throws an AggregateException
    /// of its attempts' failures (each a RequestFailedException of status 0 over the connection error).
    /// </summary>
    static bool Unavailable(Exception e) => e switch
    {
        RequestFailedException failed => failed.Status is 0 or >= 500 || failed.InnerException is HttpRequestException or IOException,
        AggregateException attempts => attempts.InnerExceptions.Count > 0 && attempts.InnerExceptions.All(Unavailable),
        _ => e is HttpRequestException or IOException,
    };
}
