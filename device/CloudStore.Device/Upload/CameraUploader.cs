using System.Security.Cryptography;
using System.Threading.RateLimiting;
using Azure;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using CloudStore.Contracts;
using CloudStore.Contracts.Envelope;
using CloudStore.Device.Media;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CloudStore.Device.Upload;

/// <summary>
/// One camera's upload pipeline (steps C, D, E). A producer takes finished segments from the source,
/// encrypts each file with the current data key into the stream cache; a sender uploads the cache in
/// order with the current grant (renewed before it expires), then indexes what it uploaded. Failures
/// back off (2, 4, 8 … 600 s) and retry; nothing accepted into the cache is lost except segments the
/// cache drops when full, which are counted. Retries, recoveries and drops are logged (<see cref="UploaderLog"/>).
/// The producer and the sender share only the stream cache (which locks itself), the counters (atomic) and the
/// grant (replaced as a whole, fetched by one of them at a time); everything else belongs to one of them.
/// </summary>
public sealed class CameraUploader : IDisposable
{
    readonly DeviceClient _client;
    readonly DeviceIdentity _identity;
    readonly UploaderOptions _options;
    readonly TimeProvider _time;
    readonly HttpClient _storageHttp;
    readonly RateLimiter? _bandwidth;
    readonly StreamCache _cache;
    readonly DataKeys _keys;
    readonly ILogger _log;
    readonly SemaphoreSlim _work = new(0);
    readonly SemaphoreSlim _granting = new(1, 1);
    readonly Dictionary<(string InitPath, Guid KeyId), string> _initNames = [];
    CredentialsResponse? _grant;
    DateTimeOffset _lastIndexed = DateTimeOffset.MinValue;

    /// <param name="storageHandler">HTTP handler for storage requests (trusting the local CA when testing).</param>
    /// <param name="logger">Where retries and drops are logged; none when null.</param>
    public CameraUploader(DeviceClient client, DeviceIdentity identity, UploaderOptions options, HttpMessageHandler storageHandler, TimeProvider time, ILogger? logger = null)
    {
        _log = logger ?? NullLogger.Instance;
        _client = client;
        _identity = identity;
        _options = options;
        _time = time;
        _storageHttp = new HttpClient(storageHandler, disposeHandler: false) { Timeout = TimeSpan.FromMinutes(2) };
        _bandwidth = ThrottledStream.CreateLimiter(options.BandwidthBytesPerSecond);
        _cache = new StreamCache(options.CacheFolder, options.CacheCapacityBytes);
        _keys = new DataKeys(identity.OrganizationId, options.CameraId, time);
    }

    public UploaderStats Stats { get; } = new();

    /// <summary>Sequence numbers the cache dropped (this run and before), oldest first.</summary>
    public IReadOnlyList<long> DroppedSequences => _cache.Dropped;

    /// <summary>Runs until the source ends and everything is uploaded and indexed, or until cancelled.</summary>
    public async Task RunAsync(VideoSource source, CancellationToken cancellationToken)
    {
        using var producing = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(() => ProduceAsync(source, producing.Token), producing.Token);
        var sender = Task.Run(() => SendAsync(producer, cancellationToken), cancellationToken);
        try
        {
            await Task.WhenAll(producer, sender);
        }
        finally
        {
            await producing.CancelAsync();
        }
    }

    // ---- Producer: source → encrypted files in the cache ----

    async Task ProduceAsync(VideoSource source, CancellationToken cancellationToken)
    {
        if (source is VideoSource.Folder folder)
        {
            foreach (var segment in HlsFolder.ReadCompleted(folder.PlaylistPath))
            {
                await TakeAsync(segment, keptByUser: true, cancellationToken);
            }

            return;
        }

        var working = Path.Combine(_options.CacheFolder, "source-" + Guid.NewGuid().ToString("N")[..8]);
        using var ffmpeg = await Ffmpeg.StartSegmentingAsync(source, working, _options.SegmentLength, cancellationToken);
        var errors = ffmpeg.StandardError.ReadToEndAsync(cancellationToken);
        try
        {
            var taken = new HashSet<string>(StringComparer.Ordinal);
            while (true)
            {
                var exited = ffmpeg.HasExited;
                foreach (var segment in HlsFolder.ReadCompleted(Path.Combine(working, "out.m3u8")).Where(s => taken.Add(s.SegmentPath)))
                {
                    await TakeAsync(segment, keptByUser: false, cancellationToken);
                }

                if (exited)
                {
                    if (ffmpeg.ExitCode != 0)
                    {
                        throw new VideoSourceException($"ffmpeg failed ({ffmpeg.ExitCode}): {await errors}");
                    }

                    return;
                }

                await Task.Delay(250, cancellationToken);
            }
        }
        finally
        {
            if (!ffmpeg.HasExited)
            {
                ffmpeg.Kill(entireProcessTree: true);
            }

            Directory.Delete(working, recursive: true);
        }
    }

    /// <param name="keptByUser">A folder source's segment: remembered as taken, so a restart does not take it twice.</param>
    async Task TakeAsync(SourceSegment segment, bool keptByUser, CancellationToken cancellationToken)
    {
        if (keptByUser && _cache.HasTaken(segment))
        {
            return;
        }

        var publicKey = await PublicKeyAsync(cancellationToken);
        var (key, isNew) = _keys.ForEncryption(publicKey);
        if (isNew)
        {
            AddToCache(CacheItemKind.WrappedKey, WrappedKey.ObjectName(key.Id), key.Wrapped, key.Id, iv: new byte[SegmentCipher.IvSize], null, null);
        }

        var initBytes = await File.ReadAllBytesAsync(segment.InitPath, cancellationToken);
        var info = Fmp4Info.FromInitSegment(initBytes);
        if (!_initNames.TryGetValue((segment.InitPath, key.Id), out var initName))
        {
            initName = $"init/{key.Id:N}-{Convert.ToHexStringLower(SHA256.HashData(initBytes))[..12]}.mp4";
            var initIv = SegmentCipher.NewIv();
            AddToCache(CacheItemKind.Init, initName, SegmentCipher.Encrypt(initBytes, key.Key, initIv), key.Id, initIv, null, null);
            _initNames[(segment.InitPath, key.Id)] = initName;
        }

        var sequence = _cache.NextSequence();
        var iv = SegmentCipher.NewIv();
        var metadata = new SegmentInfo(sequence, segment.StartTime, (int)Math.Round(segment.Duration.TotalMilliseconds), initName, info.Codec, info.Width, info.Height);
        var stored = await EncryptIntoCacheAsync(segment.SegmentPath, $"segments/{sequence:D12}.m4s", key, iv, cancellationToken);
        AddToCache(CacheItemKind.Segment, stored.Object, stored.File, metadata, keptByUser ? segment.SegmentPath : null);
        Stats.AddQueued();
        if (_options.DeleteSourceFiles)
        {
            File.Delete(segment.SegmentPath);
        }
    }

    /// <summary>
    /// Encrypts a recorder's file into a new cache file a chunk at a time, hashing the ciphertext on the way: a segment is
    /// never held whole in memory, plaintext or ciphertext (<see cref="SegmentCipher.EncryptAsync"/>).
    /// </summary>
    async Task<(StoredObject Object, string File)> EncryptIntoCacheAsync(string source, string objectName, DataKey key, byte[] iv, CancellationToken cancellationToken)
    {
        var file = _cache.NewContentFile();
        try
        {
            using var digest = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long size;
            await using (var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0))
            await using (var output = new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0))
            {
                size = await SegmentCipher.EncryptAsync(input, output, key.Key, iv, digest, cancellationToken);
            }

            return (new StoredObject(objectName, size, Convert.ToHexStringLower(digest.GetHashAndReset()), key.Id, Convert.ToHexStringLower(iv)), file);
        }
        catch
        {
            File.Delete(file);
            throw;
        }
    }

    void AddToCache(CacheItemKind kind, string objectName, byte[] content, Guid keyId, byte[] iv, SegmentInfo? segment, string? sourcePath)
    {
        var stored = new StoredObject(objectName, content.Length, Convert.ToHexStringLower(SHA256.HashData(content)), keyId, Convert.ToHexStringLower(iv));
        Added(stored, _cache.Add(kind, stored, segment, sourcePath, content));
    }

    void AddToCache(CacheItemKind kind, StoredObject stored, string contentFile, SegmentInfo? segment, string? sourcePath) =>
        Added(stored, _cache.Add(kind, stored, segment, sourcePath, contentFile));

    /// <summary>An item is in the cache: the segments dropped to make room for it are logged and counted, and the uploader woken.</summary>
    void Added(StoredObject stored, IReadOnlyList<long> dropped)
    {
        foreach (var sequence in dropped)
        {
            UploaderLog.SegmentDropped(_log, _options.CameraId, sequence, stored.Size, _options.CacheCapacityBytes);
        }

        Stats.AddDropped(dropped.Count);
        _work.Release();
    }

    /// <summary>The public key to wrap under: from a fresh grant when the link is up, else the last one received.</summary>
    async Task<PublicKeyResponse> PublicKeyAsync(CancellationToken cancellationToken)
    {
        var delay = _options.BackoffBase;
        for (var attempt = 1; ; attempt++)
        {
            if (Volatile.Read(ref _grant) is { } grant)
            {
                return grant.PublicKey;
            }

            if (_cache.PublicKey is { } saved)
            {
                return saved;
            }

            try
            {
                var publicKey = (await GrantAsync(cancellationToken)).PublicKey;
                if (attempt > 1)
                {
                    UploaderLog.Recovered(_log, _options.CameraId, "grant", attempt - 1);
                }

                return publicKey;
            }
            catch (Exception e) when (IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                UploaderLog.Retrying(_log, _options.CameraId, "grant", UploaderLog.Reason(e), attempt, (long)delay.TotalMilliseconds);
                await Task.Delay(delay, _time, cancellationToken);
                delay = Next(delay);
            }
        }
    }

    // ---- Sender: cache → bucket → index ----

    async Task SendAsync(Task producer, CancellationToken cancellationToken)
    {
        var delay = _options.BackoffBase;
        var failures = 0;
        while (true)
        {
            var items = _cache.Items();
            if (items.Count == 0)
            {
                if (producer.IsCompleted)
                {
                    await producer;
                    return;
                }

                await _work.WaitAsync(TimeSpan.FromMilliseconds(500), cancellationToken);
                continue;
            }

            try
            {
                foreach (var item in items.Where(i => !i.Uploaded))
                {
                    await UploadAsync(item, cancellationToken);

                    // Index right after each upload while keeping up; during a backlog (after an outage), in batches every few seconds.
                    if (_time.GetUtcNow() - _lastIndexed >= _options.IndexInterval)
                    {
                        await IndexUploadedAsync(cancellationToken);
                    }
                }

                await IndexUploadedAsync(cancellationToken);
                delay = _options.BackoffBase;
                if (failures > 0)
                {
                    UploaderLog.Recovered(_log, _options.CameraId, "upload", failures);
                    failures = 0;
                }
            }
            catch (Exception e) when (IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                if (e is RequestFailedException { Status: 403 })
                {
                    Volatile.Write(ref _grant, null); // Expired or revoked grant: get a new one before the retry.
                }

                failures++;
                UploaderLog.Retrying(_log, _options.CameraId, "upload", UploaderLog.Reason(e), failures, (long)delay.TotalMilliseconds);
                await Task.Delay(delay, _time, cancellationToken);
                delay = Next(delay);
            }
        }
    }

    async Task UploadAsync(CacheItem item, CancellationToken cancellationToken)
    {
        var grant = await GrantAsync(cancellationToken);
        if (grant.StorageKind == CredentialsResponse.S3)
        {
            await PutPresignedAsync(item, grant, cancellationToken);
        }
        else
        {
            await PutBlobAsync(item, grant, cancellationToken);
        }

        _cache.MarkUploaded(item);
        Stats.AddUploaded(item.Stored.Size);
    }

    async Task PutBlobAsync(CacheItem item, CredentialsResponse grant, CancellationToken cancellationToken)
    {
        var blob = new BlobClient(
            new Uri($"{grant.ContainerUrl}/{item.Stored.ObjectName}?{grant.SasToken}"),
            new BlobClientOptions { Transport = new HttpClientTransport(_storageHttp), Retry = { MaxRetries = 0 } });
        await using var content = new ThrottledStream(_cache.OpenContent(item), _bandwidth);
        try
        {
            await blob.UploadAsync(content, new BlobUploadOptions
            {
                // Create only: the grant allows nothing else, and a retry after a lost answer must not overwrite.
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/octet-stream" },
            }, cancellationToken);
        }
        catch (RequestFailedException e) when (e.Status == 409 && e.ErrorCode == BlobErrorCode.BlobAlreadyExists)
        {
            // Stored by an earlier attempt whose answer was lost; the index checks its size.
        }
    }

    /// <summary>S3 without STS: a presigned PUT per object, asked for in batches of the next names in the cache.</summary>
    async Task PutPresignedAsync(CacheItem item, CredentialsResponse grant, CancellationToken cancellationToken)
    {
        if (grant.PutUrls?.ContainsKey(item.Stored.ObjectName) != true)
        {
            var names = _cache.Items().Where(i => !i.Uploaded).Select(i => i.Stored.ObjectName).Take(CredentialsRequest.MaxObjectNames).ToList();
            if (!names.Contains(item.Stored.ObjectName))
            {
                names[^1] = item.Stored.ObjectName;
            }

            grant = await GrantAsync(cancellationToken, names);
        }

        await using var body = new ThrottledStream(_cache.OpenContent(item), _bandwidth);
        using var request = new HttpRequestMessage(HttpMethod.Put, grant.PutUrls![item.Stored.ObjectName]) { Content = new StreamContent(body) };
        request.Content.Headers.ContentLength = item.Stored.Size;
        request.Headers.TryAddWithoutValidation("If-None-Match", "*");
        using var response = await _storageHttp.SendAsync(request, cancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.PreconditionFailed)
        {
            return; // Stored by an earlier attempt whose answer was lost; the index checks its size.
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new RequestFailedException((int)response.StatusCode, $"S3 answered {(int)response.StatusCode} to a PUT.");
        }
    }

    async Task IndexUploadedAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var uploaded = _cache.Items().TakeWhile(i => i.Uploaded).ToList();
            if (uploaded.Count == 0)
            {
                return;
            }

            var batch = uploaded.Take(_options.IndexBatchSize * 2).ToList();
            var inits = batch.Where(i => i.Kind == CacheItemKind.Init).Select(i => i.Stored).ToList();
            var segments = batch.Where(i => i.Kind == CacheItemKind.Segment).Take(_options.IndexBatchSize)
                .Select(i => new SegmentMetadata(i.Segment!.Sequence, i.Segment.StartTime, i.Segment.DurationMs, i.Stored, i.Segment.InitObjectName, i.Segment.Codec, i.Segment.Width, i.Segment.Height))
                .ToList();
            var lastSequence = segments.Count > 0 ? segments[^1].Sequence : long.MaxValue;
            var done = batch.Where(i => i.Kind != CacheItemKind.Segment || i.Segment!.Sequence <= lastSequence).ToList();
            if (inits.Count > 0 || segments.Count > 0)
            {
                // The wrapped keys go with the batch too, so the index need not read them back from storage.
                var wrappedKeys = new List<WrappedKeyUpload>();
                foreach (var key in batch.Where(i => i.Kind == CacheItemKind.WrappedKey))
                {
                    await using var content = _cache.OpenContent(key);
                    using var bytes = new MemoryStream();
                    await content.CopyToAsync(bytes, cancellationToken);
                    wrappedKeys.Add(new WrappedKeyUpload(key.Stored.KeyId, Convert.ToBase64String(bytes.ToArray())));
                }

                try
                {
                    await _client.IndexAsync(_identity, new SegmentBatch(_options.CameraId, inits, segments, wrappedKeys), cancellationToken);
                    Stats.AddIndexed(segments.Count);
                    _lastIndexed = _time.GetUtcNow();
                }
                catch (DeviceRequestRefusedException e) when (e.Status is >= 400 and < 500 and not 401 and not 408 and not 429)
                {
                    // The control plane will never accept these as they are: count them and move on rather than block the queue.
                    Stats.AddRejected(segments.Count);
                    UploaderLog.IndexRefused(_log, _options.CameraId, segments.Count, e.Status);
                }
            }

            _cache.Remove(done);
        }
    }

    /// <summary>The current grant, or a new one when it is due for renewal or must name <paramref name="objectNames"/>.</summary>
    /// <remarks>One request at a time: the producer (for the public key) and the sender may both find the grant due.</remarks>
    async Task<CredentialsResponse> GrantAsync(CancellationToken cancellationToken, IReadOnlyList<string>? objectNames = null)
    {
        await _granting.WaitAsync(cancellationToken);
        try
        {
            if (Volatile.Read(ref _grant) is { } current && _time.GetUtcNow() < current.RenewAt
                && (objectNames is null || objectNames.All(n => current.PutUrls?.ContainsKey(n) == true)))
            {
                return current;
            }

            var grant = await _client.CredentialsAsync(_identity, _options.CameraId, cancellationToken, objectNames);
            _cache.SavePublicKey(grant.PublicKey);
            Volatile.Write(ref _grant, grant);
            return grant;
        }
        finally
        {
            _granting.Release();
        }
    }

    TimeSpan Next(TimeSpan delay) => delay * 2 > _options.BackoffMax ? _options.BackoffMax : delay * 2;

    /// <summary>Failures worth retrying: the network, storage or the API unavailable, a grant expired.</summary>
    static bool IsTransient(Exception e) => e switch
    {
        HttpRequestException or IOException or TimeoutException => true,
        TaskCanceledException => true,
        RequestFailedException { Status: 0 or 403 or 408 or 429 or >= 500 } => true,
        RequestFailedException { InnerException: HttpRequestException or IOException } => true,
        DeviceRequestRefusedException { Status: 401 or 408 or 429 or >= 500 } => true,
        AggregateException aggregate => aggregate.InnerExceptions.All(IsTransient),
        _ => false,
    };

    public void Dispose()
    {
        _keys.Dispose();
        _bandwidth?.Dispose();
        _storageHttp.Dispose();
        _work.Dispose();
        _granting.Dispose();
    }
}
