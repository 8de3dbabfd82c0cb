using Azure;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Sas;
using CloudStore.Contracts;
using CloudStore.Hosting;

namespace CloudStore.Functions.Regional;

/// <summary>The region's storage did not answer (down, or unreachable): the request may be retried.</summary>
public sealed class StorageUnavailableException(Exception inner) : DependencyUnavailableException("The region's storage is unavailable.", inner);

/// <summary>A short-lived, create-only grant on one camera's storage.</summary>
public sealed record StorageGrant(string ContainerUrl, string SasToken);

/// <summary>
/// One region's object storage as the control plane uses it: each camera has its own container
/// (<c>cam-{camera id}</c>), so a container-scoped grant is a camera-scoped grant. The control plane
/// creates containers and reads object sizes and wrapped keys; it never reads media.
/// </summary>
public sealed class CameraStorage(BlobServiceClient service)
{
    public static string ContainerName(Guid cameraId) => $"cam-{cameraId:N}";

    public static CameraStorage Create(RegionStorageOptions options, string? caCertificateFile)
    {
        if (options.Kind != CredentialsResponse.AzureBlob || string.IsNullOrEmpty(options.ConnectionString))
        {
            throw new InvalidOperationException($"Storage kind '{options.Kind}' needs a connection string; only azure-blob is supported so far.");
        }

        var transport = new HttpClientTransport(new HttpClient(TrustedHttp.CreateHandler(caCertificateFile)));
        return new CameraStorage(new BlobServiceClient(options.ConnectionString, new BlobClientOptions { Transport = transport }));
    }

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
        return new StorageGrant(container.Uri.ToString(), container.GenerateSasUri(sas).Query.TrimStart('?'));
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

    /// <summary>Turns "storage did not answer" into <see cref="StorageUnavailableException"/>, which endpoints answer with 503.</summary>
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
