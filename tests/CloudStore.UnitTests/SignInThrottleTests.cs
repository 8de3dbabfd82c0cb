using CloudStore.ControlPlane.Auth;
using CloudStore.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Xunit;

namespace CloudStore.UnitTests;

public sealed class SignInThrottleTests
{
    readonly TestClock _clock = new();
    readonly SignInThrottle _throttle;

    public SignInThrottleTests()
    {
        _clock.Freeze();
        _throttle = new SignInThrottle(Options.Create(new AuthOptions()), _clock);
    }

    [Fact]
    public void RecordFailure_NineteenWithinASecond_NotBlocked_TwentiethBlocks()
    {
        for (var i = 0; i < 19; i++)
        {
            _throttle.RecordFailure("client");
            _clock.Advance(TimeSpan.FromMilliseconds(50));
        }

        Assert.False(_throttle.IsBlocked("client"));
        _throttle.RecordFailure("client");
        Assert.True(_throttle.IsBlocked("client"));
        Assert.False(_throttle.IsBlocked("another client"));
    }

    [Fact]
    public void IsBlocked_ForTenSecondsThenReleased()
    {
        for (var i = 0; i < 20; i++)
        {
            _throttle.RecordFailure("client");
        }

        _clock.Advance(TimeSpan.FromSeconds(9.9));
        Assert.True(_throttle.IsBlocked("client"));
        _clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.False(_throttle.IsBlocked("client"));
    }

    [Fact]
    public void RecordFailure_OlderThanTheWindow_DoesNotCount()
    {
        for (var i = 0; i < 19; i++)
        {
            _throttle.RecordFailure("client");
        }

        _clock.Advance(TimeSpan.FromSeconds(1));
        _throttle.RecordFailure("client");

        Assert.False(_throttle.IsBlocked("client"));
    }
}
