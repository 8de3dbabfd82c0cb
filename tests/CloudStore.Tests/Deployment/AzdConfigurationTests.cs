using System.Text.Json;
using CloudStore.LocalStack;
using Xunit;

namespace CloudStore.Tests.Deployment;

/// <summary>azure.yaml and main.parameters.json agree with the templates, so <c>azd up</c> finds what it needs.</summary>
[Collection(UsesCompiledInfrastructure.Name)]
public sealed class AzdConfigurationTests(CompiledInfrastructure infrastructure)
{
    [Fact]
    public void AzureYaml_Services_TheThreeHostsOnTheBicepInInfraAzure()
    {
        var yaml = ReadAzureYaml();

        Assert.Equal("bicep", yaml["infra.provider"]);
        Assert.Equal("infra/azure", yaml["infra.path"]);
        Assert.Equal("main", yaml["infra.module"]);
        Assert.Equal(
            new Dictionary<string, (string, string, string)>
            {
                ["functions"] = ("./functions/CloudStore.Functions", "dotnet", "function"),
                ["keyserver"] = ("./keyserver", "dotnet", "appservice"),
                ["player"] = ("./player", "dotnet", "appservice"),
            },
            yaml.Keys.Where(key => key.StartsWith("services.", StringComparison.Ordinal) && key.EndsWith(".host", StringComparison.Ordinal))
                .Select(key => key.Split('.')[1])
                .ToDictionary(service => service, service => (yaml[$"services.{service}.project"], yaml[$"services.{service}.language"], yaml[$"services.{service}.host"])));
        Assert.True(File.Exists(Path.Combine(RepositoryLayout.Root, "keyserver", "CloudStore.KeyServer.csproj")));
        Assert.True(File.Exists(Path.Combine(RepositoryLayout.Root, "player", "CloudStore.Player.csproj")));
    }

    [Fact]
    public void AzureYaml_ServiceNames_MatchTheAppsTags()
    {
        var tagged = infrastructure.Snapshot.Resources("Microsoft.Web/sites")
            .Select(site => ArmTemplate.Find(site, "tags.azd-service-name")?.GetString())
            .Order(StringComparer.Ordinal);
        var declared = ReadAzureYaml().Keys
            .Where(key => key.StartsWith("services.", StringComparison.Ordinal) && key.EndsWith(".host", StringComparison.Ordinal))
            .Select(key => key.Split('.')[1])
            .Order(StringComparer.Ordinal);

        Assert.Equal(declared, tagged);
    }

    [Fact]
    public void MainParameters_EveryEntry_IsAParameterOfMainAndCoversTheRequiredOnes()
    {
        using var parameters = JsonDocument.Parse(File.ReadAllText(Path.Combine(Bicep.InfraFolder, "main.parameters.json")));
        var given = parameters.RootElement.GetProperty("parameters").EnumerateObject().Select(parameter => parameter.Name).ToList();
        var declared = infrastructure.Template.Parameters().ToDictionary(parameter => parameter.Name, parameter => parameter.Value);

        Assert.All(given, name => Assert.Contains(name, declared.Keys));
        var required = declared.Where(parameter => !parameter.Value.TryGetProperty("defaultValue", out _)).Select(parameter => parameter.Key);
        Assert.All(required, name => Assert.Contains(name, given));
    }

    /// <summary>
    /// azure.yaml as dotted keys (<c>services.player.host</c>). A reader for this file's shape only —
    /// nested maps of scalars, two-space indents — since the repository has no YAML library.
    /// </summary>
    static Dictionary<string, string> ReadAzureYaml()
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var path = new List<string>();
        foreach (var line in File.ReadAllLines(Path.Combine(RepositoryLayout.Root, "azure.yaml")))
        {
            var content = line.Split(" #")[0].TrimEnd();
            if (content.TrimStart().Length == 0 || content.TrimStart().StartsWith('#'))
            {
                continue;
            }

            var depth = (content.Length - content.TrimStart().Length) / 2;
            var separator = content.IndexOf(':', StringComparison.Ordinal);
            var key = content[..separator].Trim();
            var value = content[(separator + 1)..].Trim();
            path.RemoveRange(depth, path.Count - depth);
            path.Add(key);
            if (value.Length > 0)
            {
                values[string.Join('.', path)] = value;
            }
        }

        return values;
    }
}
