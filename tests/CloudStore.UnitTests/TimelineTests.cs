using CloudStore.ControlPlane.Recordings;
using Xunit;

namespace CloudStore.UnitTests;

public sealed class TimelineTests
{
    static readonly DateTimeOffset T0 = new(2026, 11, 27, 0, 0, 0, TimeSpan.Zero);

    static DateTimeOffset At(int minutes) => T0.AddMinutes(minutes);

    [Fact]
    public void Gaps_SpansInsideTheRange_GapsBeforeBetweenAndAfter()
    {
        var gaps = Timeline.Gaps([new RecordedSpan(At(10), At(20), 150), new RecordedSpan(At(30), At(40), 150)], At(0), At(60));

        Assert.Equal([new TimeGap(At(0), At(10)), new TimeGap(At(20), At(30)), new TimeGap(At(40), At(60))], gaps);
    }

    [Fact]
    public void Gaps_SpansOverlappingTheRangeEdgesAndEachOther_NoGapAndNothingOutsideTheRange()
    {
        var gaps = Timeline.Gaps([new RecordedSpan(At(-5), At(25), 450), new RecordedSpan(At(20), At(70), 750)], At(0), At(60));

        Assert.Empty(gaps);
    }

    [Fact]
    public void Gaps_NoRecording_TheWholeRangeIsOneGap()
    {
        Assert.Equal([new TimeGap(At(0), At(60))], Timeline.Gaps([], At(0), At(60)));
    }

    [Fact]
    public void Gaps_SpanStartingAfterTheRange_GapEndsAtTheRangeEnd()
    {
        Assert.Equal([new TimeGap(At(0), At(60))], Timeline.Gaps([new RecordedSpan(At(90), At(100), 150)], At(0), At(60)));
    }
}
