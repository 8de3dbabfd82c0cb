namespace CloudStore.Device.Upload;

public sealed class UploaderOptions
{
    public required Guid CameraId { get; init; }

    /// <summary>The camera's stream cache folder (kept across restarts).</summary>
    public required string CacheFolder { get; init; }

    /// <summary>Bound of the stream cache; when full, the oldest unsent segments are dropped.</summary>
    public long CacheCapacityBytes { get; init; } = 512L * 1024 * 1024;

    /// <summary>Upload bandwidth limit in bytes per second, or null for none.</summary>
    public long? BandwidthBytesPerSecond { get; init; }

    public TimeSpan SegmentLength { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>First retry delay after a failure; it doubles up to <see cref="BackoffMax"/> (the device reference: 2, 4, 8 … 600 s).</summary>
    public TimeSpan BackoffBase { get; init; } = TimeSpan.FromSeconds(2);

    public TimeSpan BackoffMax { get; init; } = TimeSpan.FromSeconds(600);

    /// <summary>During a backlog, how often uploaded segments are indexed (in one batch); when keeping up, each is indexed after its upload.</summary>
    public TimeSpan IndexInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Most segments indexed in one request.</summary>
    public int IndexBatchSize { get; init; } = 200;

    /// <summary>Delete source files once taken into the cache (true for ffmpeg's working folder, false for a folder the user gave).</summary>
    public bool DeleteSourceFiles { get; init; }
}

/// <summary>Counters a person watches in the terminal and tests assert on. Thread-safe.</summary>
public sealed class UploaderStats
{
    long _queued;
    long _uploaded;
    long _indexed;
    long _dropped;
    long _rejected;
    long _bytes;

    /// <summary>Segments taken into the cache.</summary>
    public long Queued => Interlocked.Read(ref _queued);

    /// <summary>Files (keys, init and media segments) stored in the bucket.</summary>
    public long Uploaded => Interlocked.Read(ref _uploaded);

    /// <summary>Segments indexed by the control plane.</summary>
    public long Indexed => Interlocked.Read(ref _indexed);

    /// <summary>Segments dropped because the cache was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Files the control plane refused to index (never retried).</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    public long BytesUploaded => Interlocked.Read(ref _bytes);

    public void AddQueued() => Interlocked.Increment(ref _queued);

    public void AddUploaded(long bytes)
    {
        Interlocked.Increment(ref _uploaded);
        Interlocked.Add(ref _bytes, bytes);
    }

    public void AddIndexed(long count) => Interlocked.Add(ref _indexed, count);

    public void AddDropped(long count) => Interlocked.Add(ref _dropped, count);

    public void AddRejected(long count) => Interlocked.Add(ref _rejected, count);

    public override string ToString() =>
        $"queued {Queued}, uploaded {Uploaded}, indexed {Indexed}, dropped {Dropped}, rejected {Rejected}, {BytesUploaded / 1048576.0:F1} MiB sent";
}
