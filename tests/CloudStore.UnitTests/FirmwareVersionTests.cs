using CloudStore.ControlPlane.Devices;
using Xunit;

namespace CloudStore.UnitTests;

public sealed class FirmwareVersionTests
{
    [Theory]
    [InlineData("11.11.73", "11.11.73", 0)]
    [InlineData("11.11.73", "11.11.100", -1)]
    [InlineData("11.2.0", "11.11.0", -1)]
    [InlineData("12.0", "11.11.73", 1)]
    [InlineData("11.11", "11.11.0", 0)]
    [InlineData("10.12.228.1", "10.12.228", 1)]
    public void CompareTo_ComparesNumericallyPartByPart(string left, string right, int expected)
    {
        Assert.Equal(expected, Math.Sign(FirmwareVersion.Parse(left).CompareTo(FirmwareVersion.Parse(right))));
    }

    [Theory]
    [InlineData("11.11.73", true)]
    [InlineData("11.11.74", true)]
    [InlineData("11.12.1", true)]
    [InlineData("12.0.0", true)]
    [InlineData("11.11.72", false)]
    [InlineData("11.9.99", false)]
    [InlineData("10.12.228.1", false)]
    public void SupportsCloudStorage_From_11_11_73(string version, bool expected)
    {
        Assert.Equal(expected, FirmwareVersion.Parse(version).SupportsCloudStorage);
    }

    [Theory]
    [InlineData("")]
    [InlineData("11")]
    [InlineData("11.x.73")]
    [InlineData("11..73")]
    [InlineData("1.2.3.4.5")]
    [InlineData("-1.2.3")]
    [InlineData("11.11.73-beta")]
    [InlineData("99999999.1")]
    public void TryParse_RejectsWhatIsNotAVersion(string text)
    {
        Assert.False(FirmwareVersion.TryParse(text, out _));
    }

    [Theory]
    [InlineData("11.11.73", null)]
    [InlineData("12.0", null)]
    [InlineData("11.11.72", "The device reported AXIS OS 11.11.72; cloud storage needs 11.11.73 or later.")]
    [InlineData(null, "The device has not reported its firmware version yet; cloud storage needs AXIS OS 11.11.73 or later.")]
    [InlineData("garbage", "The device has not reported its firmware version yet; cloud storage needs AXIS OS 11.11.73 or later.")]
    public void CloudStorageRefusal_NamesReportedAndRequiredVersions(string? reported, string? expectedStart)
    {
        var refusal = FirmwareVersion.CloudStorageRefusal(reported);

        if (expectedStart is null)
        {
            Assert.Null(refusal);
        }
        else
        {
            Assert.StartsWith(expectedStart, refusal, StringComparison.Ordinal);
        }
    }
}
