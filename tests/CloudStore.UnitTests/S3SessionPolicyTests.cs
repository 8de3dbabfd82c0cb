using System.Text.Json;
using CloudStore.ControlPlane.Regional;
using Xunit;

namespace CloudStore.UnitTests;

/// <summary>
/// The STS session policy for S3 regions in AWS (STS itself cannot run here): what it allows is exactly
/// a conditional PutObject under the camera's own prefix.
/// </summary>
public sealed class S3SessionPolicyTests
{
    [Fact]
    public void CreateOnly_AllowsOnlyConditionalPutUnderThePrefix()
    {
        using var policy = JsonDocument.Parse(S3SessionPolicy.CreateOnly("cs-us-virginia", "cam-0123/"));

        var statement = Assert.Single(policy.RootElement.GetProperty("Statement").EnumerateArray());
        Assert.Equal("2012-10-17", policy.RootElement.GetProperty("Version").GetString());
        Assert.Equal("Allow", statement.GetProperty("Effect").GetString());
        Assert.Equal("s3:PutObject", statement.GetProperty("Action").GetString());
        Assert.Equal("arn:aws:s3:::cs-us-virginia/cam-0123/*", statement.GetProperty("Resource").GetString());
        Assert.Equal("false", statement.GetProperty("Condition").GetProperty("Null").GetProperty("s3:if-none-match").GetString());
    }
}
