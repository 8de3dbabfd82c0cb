namespace CloudStore.Tests.Infrastructure;

/// <summary>
/// The app's clock in tests: the real clock plus an offset the test moves forward, or frozen at one
/// instant, so expiry and blocking are tested without sleeping.
/// </summary>
public sealed class TestClock : TimeProvider
{
    readonly Lock _gate = new();
    TimeSpan _offset;
    DateTimeOffset? _frozen;

    public override DateTimeOffset GetUtcNow()
    {
        lock (_gate)
        {
            return _frozen ?? base.GetUtcNow() + _offset;
        }
    }

    public void Advance(TimeSpan by)
    {
        lock (_gate)
        {
            _offset += by;
            _frozen += by;
        }
    }

    /// <summary>Stops the clock at the current instant until <see cref="Release"/>.</summary>
    public void Freeze()
    {
        lock (_gate)
        {
            _frozen = base.GetUtcNow() + _offset;
        }
    }

    public void Release()
    {
        lock (_gate)
        {
            _frozen = null;
        }
    }
}
