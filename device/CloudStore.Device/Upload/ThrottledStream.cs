using System.Threading.RateLimiting;

namespace CloudStore.Device.Upload;

/// <summary>
/// A read-only stream that takes tokens (bytes) from a shared token bucket before each read, so every
/// upload of a camera together stays under its bandwidth limit, including bursts after an outage.
/// </summary>
public sealed class ThrottledStream(Stream inner, RateLimiter? limiter) : Stream
{
    const int Chunk = 16 * 1024;

    public override bool CanRead => true;

    public override bool CanSeek => inner.CanSeek;

    public override bool CanWrite => false;

    public override long Length => inner.Length;

    public override long Position { get => inner.Position; set => inner.Position = value; }

    /// <summary>A token bucket of <paramref name="bytesPerSecond"/> refilled ten times a second, or null for no limit.</summary>
    public static RateLimiter? CreateLimiter(long? bytesPerSecond) => bytesPerSecond is not { } rate ? null : new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
    {
        TokenLimit = (int)Math.Max(Chunk, rate / 10),
        TokensPerPeriod = (int)Math.Max(1, rate / 10),
        ReplenishmentPeriod = TimeSpan.FromMilliseconds(100),
        QueueLimit = int.MaxValue,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        AutoReplenishment = true,
    });

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var wanted = Math.Min(buffer.Length, Chunk);
        if (limiter is not null && wanted > 0)
        {
            using var lease = await limiter.AcquireAsync(wanted, cancellationToken);
            if (!lease.IsAcquired)
            {
                throw new InvalidOperationException("The bandwidth limiter refused a read.");
            }
        }

        return await inner.ReadAsync(buffer[..wanted], cancellationToken);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("Uploads read asynchronously.");

    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
