using CloudStore.ControlPlane.Retention;
using Xunit;

namespace CloudStore.UnitTests;

public sealed class RetentionRulesTests
{
    static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    /// <summary>A 4-second segment that ends <paramref name="endedDaysAgo"/> days (plus <paramref name="extraMs"/>) before now.</summary>
    static RetentionSegment Ended(long id, double endedDaysAgo, int extraMs = 0) =>
        new(id, Now.AddDays(-endedDaysAgo).AddMilliseconds(-extraMs - 4000), 4000, $"segments/{id:D12}.m4s");

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(30, true)]
    [InlineData(3650, true)]
    [InlineData(3651, false)]
    [InlineData(-5, false)]
    public void IsValidDays_Bounds_OneToTenYears(int days, bool valid) => Assert.Equal(valid, RetentionRules.IsValidDays(days));

    [Theory]
    [InlineData(30, 31.0, true)]
    [InlineData(30, 30.0, true)] // ended exactly at the cutoff: past retention
    [InlineData(30, 29.999, false)]
    [InlineData(1, 1.5, true)]
    [InlineData(1, 0.5, false)]
    [InlineData(3650, 3000.0, false)]
    public void SegmentsToDelete_EndAgainstRetention_OnlyThoseEndedBeforeTheCutoff(int days, double endedDaysAgo, bool deleted)
    {
        var segment = Ended(1, endedDaysAgo);

        var toDelete = RetentionRules.SegmentsToDelete([segment], Now, days, [], 100);

        Assert.Equal(deleted, toDelete.Contains(segment));
    }

    [Theory]
    [InlineData(3650, 0.0)]
    [InlineData(30, -1.0)] // ends in the future (a camera clock ahead of ours): still deleted with the camera
    [InlineData(1, 5000.0)]
    public void SegmentsToDelete_CameraDeletedWithItsRecordings_EverySegmentWhateverItsAge_OnlyHoldsKeep(int days, double endedDaysAgo)
    {
        var segment = Ended(1, endedDaysAgo);
        var held = Ended(2, endedDaysAgo + 1);
        var cutoff = RetentionRules.Cutoff(Now, days, recordingsDeleted: true);

        var toDelete = RetentionRules.SegmentsToDelete([segment, held], cutoff, [new HeldRange(held.Start, held.End)], 100);

        Assert.Equal([segment], toDelete);
        Assert.Equal(RetentionRules.Cutoff(Now, days), RetentionRules.Cutoff(Now, days, recordingsDeleted: false));
        Assert.Equal(["init/a.mp4"], RetentionRules.UnreferencedToDelete([("init/a.mp4", Now), ("init/b.mp4", Now)], new HashSet<string> { "init/b.mp4" }, cutoff));
    }

    [Fact]
    public void SegmentsToDelete_SegmentRunningAcrossTheCutoff_KeptWhole()
    {
        var cutoff = RetentionRules.Cutoff(Now, 7);
        var straddling = new RetentionSegment(1, cutoff.AddMilliseconds(-2000), 4000, "segments/000000000001.m4s");

        Assert.Empty(RetentionRules.SegmentsToDelete([straddling], Now, 7, [], 100));
    }

    [Theory]
    [InlineData(-1.0, 1.0, true)] // hold around the segment
    [InlineData(-0.00001, 0.00001, true)] // hold inside the segment
    [InlineData(0.0, 1.0, false)] // hold starts where the segment ends (half-open)
    [InlineData(-2.0, -1.0, false)] // hold before the segment
    public void SegmentsToDelete_HoldOverlapping_Kept(double holdFromDays, double holdToDays, bool held)
    {
        var segment = Ended(1, 40);
        var hold = new HeldRange(segment.End.AddDays(holdFromDays), segment.End.AddDays(holdToDays));

        var toDelete = RetentionRules.SegmentsToDelete([segment], Now, 30, [hold], 100);

        Assert.Equal(held, toDelete.Count == 0);
    }

    [Fact]
    public void SegmentsToDelete_MoreThanTheBound_OldestFirstUpToTheBound()
    {
        var segments = Enumerable.Range(0, 10).Select(i => Ended(i, 40 + i)).Reverse().ToList();

        var toDelete = RetentionRules.SegmentsToDelete(segments, Now, 30, [], 3);

        Assert.Equal([9L, 8L, 7L], toDelete.Select(s => s.Id));
    }

    [Fact]
    public void SegmentsToDelete_ShorterRetention_DeletesMoreAtTheNextDecision()
    {
        var segments = new[] { Ended(1, 10), Ended(2, 20), Ended(3, 40) };

        Assert.Equal([3L], RetentionRules.SegmentsToDelete(segments, Now, 30, [], 100).Select(s => s.Id));
        Assert.Equal([3L, 2L, 1L], RetentionRules.SegmentsToDelete(segments, Now, 7, [], 100).Select(s => s.Id));
    }

    [Theory]
    [InlineData(40.0, false, true)] // old and unused: deleted
    [InlineData(40.0, true, false)] // old but a remaining (young or held) segment uses it
    [InlineData(1.0, false, false)] // unused but just registered: segments may still be on their way
    public void UnreferencedToDelete_AgeAndUse_OnlyOldAndUnused(double indexedDaysAgo, bool used, bool deleted)
    {
        var candidates = new[] { ("init/a.mp4", Now.AddDays(-indexedDaysAgo)) };
        var stillUsed = used ? new HashSet<string>(StringComparer.Ordinal) { "init/a.mp4" } : [];

        var toDelete = RetentionRules.UnreferencedToDelete(candidates, stillUsed, Now, 30);

        Assert.Equal(deleted, toDelete.Contains("init/a.mp4"));
    }
}
