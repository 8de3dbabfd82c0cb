using CloudStore.ControlPlane.Decommissioning;
using CloudStore.ControlPlane.Devices;
using Xunit;

namespace CloudStore.UnitTests;

public sealed class RecordingsChoiceTextTests
{
    [Theory]
    [InlineData("delete", true, RecordingsChoice.Delete)]
    [InlineData("keep", true, RecordingsChoice.Keep)]
    [InlineData(null, false, default(RecordingsChoice))]
    [InlineData("", false, default(RecordingsChoice))]
    [InlineData("Delete", false, default(RecordingsChoice))] // no guessing about a destructive choice
    [InlineData("delete,keep", false, default(RecordingsChoice))]
    [InlineData(" keep", false, default(RecordingsChoice))]
    public void TryParse_OnlyTheTwoWords(string? text, bool parsed, RecordingsChoice choice)
    {
        Assert.Equal(parsed, RecordingsChoiceText.TryParse(text, out var read));
        Assert.Equal(choice, read);
    }

    [Theory]
    [InlineData(RecordingsChoice.Delete, 0, "next hourly sweep.")]
    [InlineData(RecordingsChoice.Delete, 2, "2 active legal hold(s)")]
    [InlineData(RecordingsChoice.Keep, 0, "until their retention ends")]
    public void Explain_SaysWhatHappensNext_AndWhatHoldsKeep(RecordingsChoice choice, int holds, string expected)
    {
        Assert.Contains(expected, RecordingsChoiceText.Explain(choice, holds), StringComparison.Ordinal);
        Assert.Equal(choice, RecordingsChoiceText.TryParse(RecordingsChoiceText.ToText(choice), out var back) ? back : (RecordingsChoice)99);
    }
}
