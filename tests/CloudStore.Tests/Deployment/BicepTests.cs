using Xunit;

namespace CloudStore.Tests.Deployment;

/// <summary>Every template under infra/azure compiles and lints without a single diagnostic, warnings included.</summary>
public sealed class BicepTests
{
    public static TheoryData<string> BicepFiles => [.. Bicep.Files];

    [Theory]
    [MemberData(nameof(BicepFiles))]
    public async Task Build_BicepFile_SucceedsWithoutDiagnostics(string file)
    {
        var run = await Bicep.RunAsync(["build", file, "--stdout"]);

        Assert.True(run.ExitCode == 0, $"bicep build {file}: {run}");
        Assert.Equal("", run.Errors.Trim());
        Assert.StartsWith("{", run.Output.TrimStart(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(BicepFiles))]
    public async Task Lint_BicepFile_ReportsNothing(string file)
    {
        var run = await Bicep.RunAsync(["lint", file]);

        Assert.True(run.ExitCode == 0, $"bicep lint {file}: {run}");
        Assert.Equal("", (run.Output + run.Errors).Trim());
    }

    [Fact]
    public void Files_InfraAzure_HoldMainAndItsModules()
    {
        Assert.Equal(
            ["main.bicep", "modules/appservice.bicep", "modules/controldatabase.bicep", "modules/functions.bicep", "modules/identities.bicep", "modules/monitoring.bicep", "modules/regional.bicep", "modules/roles.bicep"],
            Bicep.Files);
    }
}
