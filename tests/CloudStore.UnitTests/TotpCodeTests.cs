using CloudStore.ControlPlane.Auth;
using Xunit;

namespace CloudStore.UnitTests;

/// <summary>The server's TOTP check: RFC 6238 codes, one step of drift, and a step accepted only after the last one used.</summary>
public sealed class TotpCodeTests
{
    // RFC 6238 Appendix B's SHA-1 secret ("12345678901234567890") in base32, as authenticator apps hold it.
    const string RfcKey = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    [Theory]
    [InlineData(59, "287082")]
    [InlineData(1111111109, "081804")]
    [InlineData(1234567890, "005924")]
    [InlineData(20000000000, "353130")]
    public void Match_Rfc6238Vector_ReturnsItsStep(long unixSeconds, string code)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(unixSeconds);

        Assert.Equal(unixSeconds / 30, TotpCode.Match(RfcKey, code, now, lastUsedStep: null));
    }

    [Theory]
    [InlineData(-1, true)]
    [InlineData(0, true)]
    [InlineData(1, true)]
    [InlineData(-2, false)]
    [InlineData(2, false)]
    public void Match_CodeOfANeighbouringStep_AcceptedOnlyWithinOneStep(int offsetSteps, bool accepted)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_015);
        var step = TotpCode.StepAt(now) + offsetSteps;
        var code = TotpCode.Compute(TotpCode.Base32Decode(RfcKey)!, step);

        Assert.Equal(accepted ? step : null, TotpCode.Match(RfcKey, code, now, lastUsedStep: null));
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, false)]
    [InlineData(-1, true)]
    public void Match_StepAlreadyUsedOrLater_Refused(int lastUsedOffset, bool accepted)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_015);
        var step = TotpCode.StepAt(now);
        var code = TotpCode.Compute(TotpCode.Base32Decode(RfcKey)!, step);

        Assert.Equal(accepted ? step : null, TotpCode.Match(RfcKey, code, now, step + lastUsedOffset));
    }

    [Theory]
    [InlineData("")]
    [InlineData("12345")]
    [InlineData("1234567")]
    [InlineData("abcdef")]
    [InlineData("１２３４５６")]
    public void Match_NotSixAsciiDigits_Refused(string code) =>
        Assert.Null(TotpCode.Match(RfcKey, code, DateTimeOffset.FromUnixTimeSeconds(59), lastUsedStep: null));
}
