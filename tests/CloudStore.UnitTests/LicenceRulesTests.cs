using CloudStore.ControlPlane.Licences;
using Xunit;

namespace CloudStore.UnitTests;

public sealed class LicenceRulesTests
{
    static readonly DateTimeOffset Activated = new(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("CSL-7K3QF-M9TXA-2B4RD-Y8WNP", true)]
    [InlineData(" csl-7k3qf-m9txa-2b4rd-y8wnp ", true)]
    [InlineData("CSL-7K3QF-M9TXA-2B4RD", false)]
    [InlineData("CSL-7K3QF-M9TXA-2B4RD-Y8WNU", false)]
    [InlineData("CSL-7K3QF-M9TXA-2B4RD-Y8WNPX", false)]
    [InlineData("XYZ-7K3QF-M9TXA-2B4RD-Y8WNP", false)]
    [InlineData("", false)]
    public void TryNormalisePartnerKey_AcceptsOnlyTheDocumentedFormat(string text, bool expected)
    {
        Assert.Equal(expected, LicenceRules.TryNormalisePartnerKey(text, out _));
    }

    [Theory]
    [InlineData(29, false, false)]
    [InlineData(30, false, true)]
    [InlineData(45, false, true)]
    [InlineData(45, true, false)]
    public void Lapses_OnlyNeverAllocatedLicencesOnceTheWindowHasEnded(int daysAfterActivation, bool allocatedBefore, bool expected)
    {
        DateTimeOffset? firstAllocated = allocatedBefore ? Activated.AddDays(3) : null;

        Assert.Equal(expected, LicenceRules.Lapses(firstAllocated, Activated, Activated.AddDays(daysAfterActivation)));
    }
}
