using Azure;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Sas;
using CloudStore.Contracts;

namespace CloudStore.Functions.Regional;

/// <summary>
/// A region's Azure Blob storage: each camera has its own container (<c>cam-{camera id}</c>), so a
/// container-scoped SAS is a camera-scoped grant.
/// </summary>
public sealed class AzureCameraStorage(BlobServiceClient service) : ICameraStorage
{
    public static string ContainerName(Guid cameraId) => CameraLayout.Name(cameraId);

    public static AzureCameraStorage Create(RegionStorageOptions options, string? caCertificateFile)
    {
        if (string.IsNullOrEmpty(options.ConnectionString))
        {
            throw new InvalidOperationException("An azure-blob region needs Storage:ConnectionString.");
        }

        var transport = new HttpClientTransport(new HttpClient(TrustedHttp.CreateHandler(caCertificateFile)));
        return new AzureCameraStorage(new BlobServiceClient(options.ConnectionString, new BlobClientOptions { Transport = transport }));
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
        return new StorageGrant(CredentialsResponse.AzureBlob, ContainerUrl: container.Uri.ToString(), SasToken: container.GenerateSasUri(sas).Query.TrimStart('?'));
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

    /// <summary>Turns "storage did not answer" into <see cref="StorageUnavailableException"/>, answered with 503.</summary>
    static async Task<T> Guarded<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (RequestFailedException e) when (e.Status is 0 or >= 500 || e.InnerException is HttpRequestException or IOException)
        {
            throw new StorageUnavailableException(e);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or AggregateException { InnerException: HttpRequestException })
        {
            throw new StorageUnavailableException(e);
        }
    }
}
