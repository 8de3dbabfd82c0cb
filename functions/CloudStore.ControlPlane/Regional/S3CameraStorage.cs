using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;
using CloudStore.Contracts;

namespace CloudStore.ControlPlane.Regional;

/// <summary>
/// A region's S3 bucket: each camera writes under its own prefix (<c>cam-{camera id}/</c>). Grants are
/// either presigned PUT URLs, one per named object (where STS does not exist, as locally), or temporary
/// credentials from STS AssumeRole narrowed by <see cref="S3SessionPolicy"/> to the camera's prefix.
/// Both require <c>If-None-Match: *</c> on every PUT, so objects can be created but never overwritten.
/// </summary>
public sealed class S3CameraStorage(IAmazonS3 s3, IAmazonSecurityTokenService? sts, RegionStorageOptions options) : ICameraStorage
{
    public const string CreateOnlyHeader = "If-None-Match";

    public static S3CameraStorage Create(RegionStorageOptions options, string? caCertificateFile)
    {
        if (string.IsNullOrEmpty(options.Bucket))
        {
            throw new InvalidOperationException("An s3 region needs Storage:Bucket.");
        }

        var config = new AmazonS3Config
        {
            ForcePathStyle = true,
            AuthenticationRegion = options.AwsRegion,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            HttpClientFactory = new TrustedHttpClientFactory(caCertificateFile),
        };
        if (!string.IsNullOrEmpty(options.ServiceUrl))
        {
            config.ServiceURL = options.ServiceUrl;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.AwsRegion);
        }

        var s3 = string.IsNullOrEmpty(options.AccessKeyId)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKeyId, options.SecretAccessKey), config);
        var sts = options.GrantMode == "sts" ? new AmazonSecurityTokenServiceClient(Amazon.RegionEndpoint.GetBySystemName(options.AwsRegion)) : null;
        return new S3CameraStorage(s3, sts, options);
    }

    static string Key(Guid cameraId, string objectName) => $"{CameraLayout.Name(cameraId)}/{objectName}";

    public async Task<StorageGrant> GrantAsync(Guid cameraId, IReadOnlyList<string> objectNames, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        var prefix = CameraLayout.Name(cameraId) + "/";
        if (options.GrantMode == "sts" && sts is not null)
        {
            var session = await sts.AssumeRoleAsync(new AssumeRoleRequest
            {
                RoleArn = options.RoleArn,
                RoleSessionName = $"camera-{cameraId:N}",
                DurationSeconds = (int)(expiresAt - now).TotalSeconds,
                Policy = S3SessionPolicy.CreateOnly(options.Bucket!, prefix),
            }, cancellationToken);
            var credentials = session.Credentials;
            return new StorageGrant(CredentialsResponse.S3, AccessKeyId: credentials.AccessKeyId, SecretAccessKey: credentials.SecretAccessKey,
                SessionToken: credentials.SessionToken, Bucket: options.Bucket, Url: options.ServiceUrl, Prefix: prefix);
        }

        var urls = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in objectNames)
        {
            var request = new GetPreSignedUrlRequest
            {
                BucketName = options.Bucket,
                Key = Key(cameraId, name),
                Verb = HttpVerb.PUT,
                Expires = expiresAt.UtcDateTime,
                Protocol = options.ServiceUrl?.StartsWith("http://", StringComparison.OrdinalIgnoreCase) == true ? Protocol.HTTP : Protocol.HTTPS,
            };

            // Signed, so the holder must send it: the URL creates the object, it can never overwrite it.
            request.Headers[CreateOnlyHeader] = "*";
            urls[name] = await s3.GetPreSignedURLAsync(request);
        }

        return new StorageGrant(CredentialsResponse.S3, PutUrls: urls, Bucket: options.Bucket, Prefix: prefix);
    }

    public async Task<IReadOnlyDictionary<string, string>> ReadUrlsAsync(
        Guid cameraId, IReadOnlyCollection<string> objectNames, DateTimeOffset now, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        var urls = new Dictionary<string, string>(objectNames.Count, StringComparer.Ordinal);
        foreach (var name in objectNames)
        {
            urls[name] = await s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
            {
                BucketName = options.Bucket,
                Key = Key(cameraId, name),
                Verb = HttpVerb.GET,
                Expires = expiresAt.UtcDateTime,
                Protocol = options.ServiceUrl?.StartsWith("http://", StringComparison.OrdinalIgnoreCase) == true ? Protocol.HTTP : Protocol.HTTPS,
            });
        }

        return urls;
    }

    public async Task<long?> SizeAsync(Guid cameraId, string objectName, CancellationToken cancellationToken)
    {
        try
        {
            var metadata = await Guarded(() => s3.GetObjectMetadataAsync(options.Bucket, Key(cameraId, objectName), cancellationToken));
            return metadata.ContentLength;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>
    /// ListObjectsV2 under the names' common prefix, from just before the first name (StartAfter: the name with its last
    /// character dropped sorts before it and after nothing in the range), each page after the last key listed and sized for
    /// the named objects not found yet (so the listing rarely reads far past the range). S3 lists in UTF-8 byte order.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, long>> ListSizesAsync(Guid cameraId, IReadOnlyList<string> names, int maxOthers, CancellationToken cancellationToken)
    {
        var listing = new NameRangeListing(names, maxOthers);
        var cameraPrefix = CameraLayout.Name(cameraId) + "/";
        var request = new ListObjectsV2Request
        {
            BucketName = options.Bucket,
            Prefix = cameraPrefix + listing.CommonPrefix,
            StartAfter = cameraPrefix + listing.First[..^1],
        };
        while (true)
        {
            request.MaxKeys = listing.NextPageSize(1000);
            var page = await Guarded(() => s3.ListObjectsV2Async(request, cancellationToken));
            foreach (var stored in page.S3Objects ?? [])
            {
                if (!listing.Take(stored.Key[cameraPrefix.Length..], stored.Size))
                {
                    return listing.Sizes;
                }

                request.StartAfter = stored.Key;
            }

            if (page.IsTruncated != true)
            {
                return listing.Sizes;
            }
        }
    }

    public async Task<byte[]?> ReadSmallAsync(Guid cameraId, string objectName, int maxBytes, CancellationToken cancellationToken)
    {
        var size = await SizeAsync(cameraId, objectName, cancellationToken);
        if (size is null or 0 || size > maxBytes)
        {
            return null;
        }

        using var response = await Guarded(() => s3.GetObjectAsync(options.Bucket, Key(cameraId, objectName), cancellationToken));
        using var buffer = new MemoryStream();
        await response.ResponseStream.CopyToAsync(buffer, cancellationToken);
        return buffer.ToArray();
    }

    /// <summary>How many object deletes run at once.</summary>
    public const int DeletesInParallel = 16;

    /// <summary>
    /// One DELETE per object, a few at once; S3 answers 204 for a key that does not exist, so deleting again is
    /// harmless. <c>DeleteObjects</c> (1,000 keys a request) would do the same in fewer requests; it is a change
    /// inside this method once measured (the local S3 server accepts it since its bucket-path fix, see s3-server.mjs).
    /// </summary>
    public async Task DeleteAsync(Guid cameraId, IReadOnlyCollection<string> objectNames, CancellationToken cancellationToken) =>
        await Parallel.ForEachAsync(objectNames, new ParallelOptions { MaxDegreeOfParallelism = DeletesInParallel, CancellationToken = cancellationToken }, async (name, token) =>
        {
            try
            {
                await Guarded(() => s3.DeleteObjectAsync(options.Bucket, Key(cameraId, name), token));
            }
            catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
            {
                // Already gone: what the sweep wanted.
            }
        });

    /// <summary>Lists the camera's prefix a page at a time (ListObjectsV2) and deletes what it lists; S3 has no folder to remove.</summary>
    public async Task<int> DeleteAllAsync(Guid cameraId, int max, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(max);
        var prefix = CameraLayout.Name(cameraId) + "/";
        var deleted = 0;
        while (deleted < max)
        {
            // Each page starts from the beginning again: what the previous page listed is deleted by then.
            var listed = await Guarded(() => s3.ListObjectsV2Async(
                new ListObjectsV2Request { BucketName = options.Bucket, Prefix = prefix, MaxKeys = Math.Min(max - deleted, 1000) }, cancellationToken));
            var names = (listed.S3Objects ?? []).Select(o => o.Key[prefix.Length..]).ToList();
            if (names.Count == 0)
            {
                break;
            }

            await DeleteAsync(cameraId, names, cancellationToken);
            deleted += names.Count;
            if (listed.IsTruncated != true)
            {
                break;
            }
        }

        return deleted;
    }

    static async Task<T> Guarded<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (AmazonServiceException e) when (e.StatusCode >= HttpStatusCode.InternalServerError || e.InnerException is HttpRequestException or IOException)
        {
            throw new StorageUnavailableException(e);
        }
        catch (Exception e) when (e is HttpRequestException or IOException)
        {
            throw new StorageUnavailableException(e);
        }
    }

    /// <summary>The AWS SDK's HTTP client with CloudStore's outbound TLS policy (and, locally, the local CA).</summary>
    sealed class TrustedHttpClientFactory(string? caCertificateFile) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(TrustedHttp.CreateHandler(caCertificateFile));
    }
}

/// <summary>The STS session policy that narrows a camera's temporary credentials to creating objects under its own prefix.</summary>
public static class S3SessionPolicy
{
    /// <summary>
    /// Only <c>s3:PutObject</c>, only under <paramref name="prefix"/>, and only as a conditional write
    /// (<c>If-None-Match: *</c>, condition key <c>s3:if-none-match</c>), so existing objects cannot be replaced.
    /// </summary>
    public static string CreateOnly(string bucket, string prefix) => System.Text.Json.JsonSerializer.Serialize(new
    {
        Version = "2012-10-17",
        Statement = new object[]
        {
            new
            {
                Sid = "CreateOnlyUnderCameraPrefix",
                Effect = "Allow",
                Action = "s3:PutObject",
                Resource = $"arn:aws:s3:::{bucket}/{prefix}*",
                Condition = new Dictionary<string, object> { ["Null"] = new Dictionary<string, string> { ["s3:if-none-match"] = "false" } },
            },
        },
    });
}
