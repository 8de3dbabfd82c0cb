using System.Diagnostics;
using System.Security.Cryptography;
using Azure;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using CloudStore.Contracts;
using CloudStore.Contracts.Envelope;
using CloudStore.Device;
using CloudStore.Device.Upload;

namespace CloudStore.Bench;

/// <summary>
/// One camera of the load generator. Every <see cref="SegmentLength"/> it does what the reference camera
/// (<c>device/CloudStore.Device</c>, <c>CameraUploader</c>) does for a segment that is keeping up, through the same
/// calls: a device token when the last has under a minute left (<see cref="DeviceClient"/>), an upload grant at start and
/// again at its renewal time (80 % of its life), a data key made and wrapped under the organisation's public key at start
/// (<see cref="DataKeys"/>), the key's wrapped form and an init segment stored once, then the segment encrypted with the
/// data key (<see cref="SegmentCipher"/>, a fresh IV), created in the camera's storage with the grant (create-only,
/// <c>If-None-Match: *</c>: a container SAS in Azure, presigned PUTs in S3) and indexed. There is no ffmpeg: the
/// plaintext is a fixed buffer of <see cref="SegmentBytes"/> random bytes, which the service cannot tell from video (it
/// sees ciphertext only); the index is told the codec and size of 720p H.264.
/// </summary>
/// <remarks>
/// A camera sends its segments one after another: if one takes longer than <see cref="SegmentLength"/>, the next starts
/// late (the lateness is recorded) and the camera falls behind, as an overloaded service would make a real one do; a
/// failed segment is counted (the HTTP status is in the <see cref="CallLog"/>) and not retried, so failures show as errors
/// rather than as a backlog. The reference camera would retry, and index a backlog in batches.
/// </remarks>
public sealed class SimulatedCamera(EnrolledCamera camera, HttpClient storageHttp, CallLog log, TimeProvider time) : IDisposable
{
    public static readonly TimeSpan SegmentLength = TimeSpan.FromSeconds(4);

    /// <summary>
    /// A segment's plaintext size: 16 KiB rather than the ~2 MiB of 4 s at 4 Mbit/s. The control plane never reads an
    /// object (it checks sizes with HEAD), so the size changes only what the storage emulator and the loopback carry;
    /// 2 MiB a camera every 4 s would be 500 MB/s at 1,000 cameras, which storage serves in the cloud, not this machine.
    /// </summary>
    public const int SegmentBytes = 16 * 1024;

    const int InitBytes = 800;
    static readonly byte[] SegmentPlaintext = RandomNumberGenerator.GetBytes(SegmentBytes);
    static readonly byte[] InitPlaintext = RandomNumberGenerator.GetBytes(InitBytes);

    readonly DataKeys _keys = new(camera.Identity.OrganizationId, camera.CameraId, time);
    CredentialsResponse? _grant;
    BlobContainerClient? _container;

    /// <summary>The init segment and wrapped key of the current data key, sent with every index call until one is accepted.</summary>
    (StoredObject Init, WrappedKeyUpload Key)? _unindexedKey;

    string _initName = "";
    long _sequence;

    /// <summary>Segments indexed.</summary>
    public long Indexed => Interlocked.Read(ref _indexed);

    /// <summary>Segments that failed at any step (grant, upload or index).</summary>
    public long Failed => Interlocked.Read(ref _failed);

    long _indexed;
    long _failed;

    /// <summary>Sends a segment every <see cref="SegmentLength"/>, the first after <paramref name="after"/>, until cancelled.</summary>
    public async Task RunAsync(TimeSpan after, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp() + (long)(after.TotalSeconds * Stopwatch.Frequency);
        var interval = (long)(SegmentLength.TotalSeconds * Stopwatch.Frequency);
        var recordingStart = time.GetUtcNow() + after;
        try
        {
            for (long k = 0; ; k++)
            {
                var due = start + (k * interval);
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
                if (wait > TimeSpan.Zero)
                {
                    await Task.Delay(wait, time, cancellationToken);
                }

                var began = Stopwatch.GetTimestamp();
                log.Add(new CallSample(CallKind.Lateness, due, Stopwatch.GetElapsedTime(due, began).TotalMilliseconds, 200));
                try
                {
                    await SendSegmentAsync(recordingStart + (k * SegmentLength), cancellationToken);
                    Interlocked.Increment(ref _indexed);
                }
                catch (Exception e) when (IsServiceFailure(e) && !cancellationToken.IsCancellationRequested)
                {
                    Interlocked.Increment(ref _failed);
                    if (e is RequestFailedException { Status: 403 } or DeviceRequestRefusedException { Status: 401 or 403 })
                    {
                        _grant = null; // As the camera does: a refused grant is fetched anew before the next upload.
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped by the bench.
        }
    }

    async Task SendSegmentAsync(DateTimeOffset startTime, CancellationToken cancellationToken)
    {
        var segment = await UploadSegmentAsync(startTime, SegmentPlaintext, cancellationToken);
        await IndexAsync([segment], cancellationToken);
    }

    /// <summary>
    /// Encrypts <paramref name="plaintext"/> as the next segment and creates it in storage (with, at the first segment of a
    /// data key, the key's wrapped form and an init segment); returns what the index call says of it.
    /// </summary>
    public async Task<SegmentMetadata> UploadSegmentAsync(DateTimeOffset startTime, byte[] plaintext, CancellationToken cancellationToken)
    {
        var grant = await GrantAsync(cancellationToken);
        var (key, isNew) = _keys.ForEncryption(grant.PublicKey);
        if (isNew)
        {
            // A new data key: its wrapped form and an init segment encrypted with it are stored before any segment using it.
            _initName = $"init/{key.Id:N}-{Convert.ToHexStringLower(SHA256.HashData(InitPlaintext))[..12]}.mp4";
            var initIv = SegmentCipher.NewIv();
            var init = SegmentCipher.Encrypt(InitPlaintext, key.Key, initIv);
            await PutAsync(WrappedKey.ObjectName(key.Id), key.Wrapped, cancellationToken, [_initName]);
            await PutAsync(_initName, init, cancellationToken);
            _unindexedKey = (Stored(_initName, init, key.Id, initIv), new WrappedKeyUpload(key.Id, Convert.ToBase64String(key.Wrapped)));
        }

        var sequence = _sequence++;
        var iv = SegmentCipher.NewIv();
        var ciphertext = SegmentCipher.Encrypt(plaintext, key.Key, iv);
        var name = $"segments/{sequence:D12}.m4s";
        await PutAsync(name, ciphertext, cancellationToken);
        return new SegmentMetadata(sequence, startTime, (int)SegmentLength.TotalMilliseconds, Stored(name, ciphertext, key.Id, iv), _initName, "avc1.64001f", 1280, 720);
    }

    /// <summary>Indexes uploaded segments in one call, with the current key's init segment and wrapped key until they are indexed.</summary>
    public async Task IndexAsync(IReadOnlyList<SegmentMetadata> segments, CancellationToken cancellationToken)
    {
        var batch = _unindexedKey is var (initObject, wrapped)
            ? new SegmentBatch(camera.CameraId, [initObject], segments, [wrapped])
            : new SegmentBatch(camera.CameraId, [], segments);
        await camera.Client.IndexAsync(camera.Identity, batch, cancellationToken);
        _unindexedKey = null;
    }

    async Task<CredentialsResponse> GrantAsync(CancellationToken cancellationToken)
    {
        if (_grant is { } current && time.GetUtcNow() < current.RenewAt)
        {
            return current;
        }

        var grant = await camera.Client.CredentialsAsync(camera.Identity, camera.CameraId, cancellationToken);
        _container = grant.StorageKind == CredentialsResponse.AzureBlob
            ? new BlobContainerClient(new Uri($"{grant.ContainerUrl}?{grant.SasToken}"), new BlobClientOptions { Transport = new HttpClientTransport(storageHttp), Retry = { MaxRetries = 0 } })
            : null;
        _grant = grant;
        return grant;
    }

    /// <summary>Creates an object with the grant, as the camera does: create only, so a retry after a lost answer cannot overwrite.</summary>
    /// <param name="alsoNeeded">Other objects about to be created (S3: a presigned URL is asked for each).</param>
    async Task PutAsync(string objectName, byte[] content, CancellationToken cancellationToken, IReadOnlyList<string>? alsoNeeded = null)
    {
        if (_container is null)
        {
            await PutPresignedAsync(objectName, content, alsoNeeded ?? [], cancellationToken);
            return;
        }

        try
        {
            await _container.GetBlobClient(objectName).UploadAsync(new BinaryData(content), new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
            }, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 409 && e.ErrorCode == BlobErrorCode.BlobAlreadyExists)
        {
            // Stored by an earlier attempt; the index checks its size.
        }
    }

    /// <summary>
    /// S3 without STS: a presigned PUT per object, signed with <c>If-None-Match: *</c>. URLs are asked for ahead, for this object
    /// and the next segments' names (<see cref="CredentialsRequest.MaxObjectNames"/> in all), as the reference camera asks for
    /// the names waiting in its cache; a live camera's cache holds one segment, which would cost a grant call per segment.
    /// </summary>
    async Task PutPresignedAsync(string objectName, byte[] content, IReadOnlyList<string> alsoNeeded, CancellationToken cancellationToken)
    {
        if (_grant!.PutUrls?.ContainsKey(objectName) != true)
        {
            var names = new List<string> { objectName };
            names.AddRange(alsoNeeded);
            for (var next = _sequence; names.Count < CredentialsRequest.MaxObjectNames; next++)
            {
                names.Add($"segments/{next:D12}.m4s");
            }

            _grant = await camera.Client.CredentialsAsync(camera.Identity, camera.CameraId, cancellationToken, [.. names.Distinct(StringComparer.Ordinal)]);
        }

        using var request = new HttpRequestMessage(HttpMethod.Put, _grant.PutUrls![objectName]) { Content = new ByteArrayContent(content) };
        request.Headers.TryAddWithoutValidation("If-None-Match", "*");
        using var response = await storageHttp.SendAsync(request, cancellationToken);
        if (response.StatusCode != System.Net.HttpStatusCode.PreconditionFailed && !response.IsSuccessStatusCode)
        {
            throw new RequestFailedException((int)response.StatusCode, $"S3 answered {(int)response.StatusCode} to a PUT.");
        }
    }

    static StoredObject Stored(string name, byte[] ciphertext, Guid keyId, byte[] iv) =>
        new(name, ciphertext.Length, Convert.ToHexStringLower(SHA256.HashData(ciphertext)), keyId, Convert.ToHexStringLower(iv));

    /// <summary>What an overloaded or failing service, storage or network does to a call; anything else is a bug in the bench.</summary>
    static bool IsServiceFailure(Exception e) => e is HttpRequestException or IOException or TimeoutException or TaskCanceledException
        or RequestFailedException or DeviceRequestRefusedException;

    public void Dispose() => _keys.Dispose();
}
