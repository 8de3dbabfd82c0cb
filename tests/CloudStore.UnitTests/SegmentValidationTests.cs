using CloudStore.Contracts;
using CloudStore.ControlPlane.Recordings;
using Xunit;

namespace CloudStore.UnitTests;

/// <summary>What a device may index: checked at the edge, each error named by its field.</summary>
public sealed class SegmentValidationTests
{
    static readonly DateTimeOffset Now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);
    static readonly string Sha = new('a', 64);
    const string Iv = "000102030405060708090a0b0c0d0e0f";

    static SegmentBatch Batch(Func<SegmentMetadata, SegmentMetadata>? change = null)
    {
        var init = new StoredObject("init/1.mp4", 800, Sha, Guid.NewGuid(), Iv);
        var segment = new SegmentMetadata(1, Now.AddMinutes(-1), 4000, new StoredObject("segments/1.m4s", 2_000_000, Sha, init.KeyId, Iv), init.ObjectName, "avc1.640028", 1280, 720);
        return new SegmentBatch(Guid.NewGuid(), [init], [change is null ? segment : change(segment)]);
    }

    [Fact]
    public void Check_WellFormedBatch_NoErrors()
    {
        var validation = SegmentValidation.Check(Batch(), Now);

        Assert.False(validation.HasErrors, string.Join("; ", validation.Errors.Select(e => $"{e.Key}: {string.Join(", ", e.Value)}")));
    }

    [Theory]
    [InlineData("sequence")]
    [InlineData("durationMs")]
    [InlineData("startTime")]
    [InlineData("initObjectName")]
    public void Check_OneBadField_NamedInTheErrors(string field)
    {
        var batch = Batch(s => field switch
        {
            "sequence" => s with { Sequence = -1 },
            "durationMs" => s with { DurationMs = SegmentValidation.MaxDurationMs + 1 },
            "startTime" => s with { StartTime = Now + SegmentValidation.MaxClockAhead + TimeSpan.FromSeconds(1) },
            _ => s with { InitObjectName = "../init/1.mp4" },
        });

        var validation = SegmentValidation.Check(batch, Now);

        Assert.Equal(["segments[0]." + field], validation.Errors.Keys);
    }

    /// <summary>
    /// A value valid but for a trailing newline is refused ('$' in a pattern matches before a final "\n"; the sha256 and
    /// iv passed the check, then failed to parse into a 500, and object names were accepted with it).
    /// </summary>
    [Theory]
    [InlineData("segments[0].media.objectName")]
    [InlineData("segments[0].media.sha256")]
    [InlineData("segments[0].media.iv")]
    [InlineData("segments[0].initObjectName")]
    [InlineData("segments[0].codec")]
    [InlineData("initSegments[0].objectName")]
    [InlineData("initSegments[0].sha256")]
    [InlineData("initSegments[0].iv")]
    public void Check_TrailingNewline_Refused(string field)
    {
        var batch = Batch(s => field switch
        {
            "segments[0].media.objectName" => s with { Media = s.Media with { ObjectName = s.Media.ObjectName + "\n" } },
            "segments[0].media.sha256" => s with { Media = s.Media with { Sha256 = Sha + "\n" } },
            "segments[0].media.iv" => s with { Media = s.Media with { Iv = Iv + "\n" } },
            "segments[0].initObjectName" => s with { InitObjectName = s.InitObjectName + "\n" },
            "segments[0].codec" => s with { Codec = s.Codec + "\n" },
            _ => s,
        });
        if (field.StartsWith("initSegments", StringComparison.Ordinal))
        {
            var init = batch.InitSegments[0];
            batch = batch with
            {
                InitSegments = [field switch
                {
                    "initSegments[0].objectName" => init with { ObjectName = init.ObjectName + "\n" },
                    "initSegments[0].sha256" => init with { Sha256 = Sha + "\n" },
                    _ => init with { Iv = Iv + "\n" },
                }],
            };
        }

        var validation = SegmentValidation.Check(batch, Now);

        Assert.Contains(field, validation.Errors.Keys);
    }

    [Fact]
    public void Check_EmptyBatch_Refused()
    {
        Assert.True(SegmentValidation.Check(new SegmentBatch(Guid.NewGuid(), [], []), Now).HasErrors);
    }

    [Theory]
    [InlineData("segments/1.m4s", true)]
    [InlineData("keys/abc.bin", true)]
    [InlineData("other/1.m4s", false)]
    [InlineData("segments/../keys/x", false)]
    [InlineData("", false)]
    [InlineData("segments/1.m4s\n", false)]
    [InlineData("keys/abc.bin\n", false)]
    [InlineData("init/1.mp4\n", false)]
    public void IsCameraObjectName_OnlyUnderTheCameraFolders(string name, bool expected)
    {
        Assert.Equal(expected, SegmentValidation.IsCameraObjectName(name));
    }
}
