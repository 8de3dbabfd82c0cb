using CloudStore.Contracts;
using Xunit;

namespace CloudStore.UnitTests;

/// <summary>The return-URL check, against what a browser does with a link: each refused form leads off-site once read.</summary>
public sealed class LocalUrlTests
{
    [Theory]
    [InlineData("/")]
    [InlineData("/cameras")]
    [InlineData("/cameras/3f2c6a1e-0000-4000-8000-000000000001?at=2026-11-27T10%3A00%3A00Z")]
    [InlineData("/account#recovery")]
    [InlineData("/a%20b")]
    [InlineData("/search?q=a%2Fb")]
    public void IsLocalPath_PathsOnThisSite_Accepted(string url)
    {
        Assert.True(LocalUrl.IsLocalPath(url));
        Assert.Equal(url, LocalUrl.OrHome(url));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("https://evil.example/")]
    [InlineData("evil.example")]
    [InlineData("javascript:alert(1)")]
    [InlineData("//evil.example/")]
    [InlineData("/\\evil.example/")]
    [InlineData("\\\\evil.example/")]
    [InlineData("\\/evil.example/")]
    [InlineData("/\t/evil.example/")] // a browser drops the tab: //evil.example/
    [InlineData("/\n/evil.example/")] // ... and a line feed
    [InlineData("/\r/evil.example/")] // ... and a carriage return
    [InlineData("\t//evil.example/")]
    [InlineData("/\t\\evil.example/")]
    [InlineData(" //evil.example/")] // a browser trims leading spaces
    [InlineData("/\0/evil.example/")]
    [InlineData("/%09/evil.example/")] // the same, percent-encoded once more
    [InlineData("/%0a/evil.example/")]
    [InlineData("/%0D/evil.example/")]
    [InlineData("/%2F/evil.example/")]
    [InlineData("/%5Cevil.example/")]
    [InlineData("%2F%2Fevil.example/")]
    [InlineData("/%2509/evil.example/")] // twice
    [InlineData("/%25252F/evil.example/")] // three times
    public void IsLocalPath_AnythingABrowserCouldReadAsAnotherSite_RefusedAndHomeInstead(string? url)
    {
        Assert.False(LocalUrl.IsLocalPath(url));
        Assert.Equal("/", LocalUrl.OrHome(url));
    }

    [Fact]
    public void IsLocalPath_OverLong_Refused()
    {
        Assert.False(LocalUrl.IsLocalPath("/" + new string('a', 4096)));
    }
}
