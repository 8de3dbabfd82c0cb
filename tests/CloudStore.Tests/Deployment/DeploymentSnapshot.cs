using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace CloudStore.Tests.Deployment;

/// <summary>
/// What a deployment of main.bicep would create, as <c>bicep snapshot</c> predicts it for given parameters:
/// modules and loops expanded, names, locations and scopes evaluated. Values only known in Azure (an
/// identity's principal id, a host name) stay <c>reference('…/resource id', …)</c> expressions, which name
/// the resource they come from.
/// </summary>
public sealed partial class DeploymentSnapshot
{
    public const string SubscriptionId = "00000000-0000-0000-0000-0000000c1d00";
    public const string TenantId = "00000000-0000-0000-0000-0000000c1d01";
    public const string EnvironmentName = "cloudstore-test";
    public const string Location = "westeurope";

    DeploymentSnapshot(JsonElement root) => Root = root;

    public JsonElement Root { get; }

    public IReadOnlyList<JsonElement> PredictedResources => [.. Root.GetProperty("predictedResources").EnumerateArray()];

    public JsonElement Outputs => Root.GetProperty("outputs");

    public static string ResourceGroupId => $"/subscriptions/{SubscriptionId}/resourceGroups/rg-{EnvironmentName}";

    /// <summary>Runs <c>bicep snapshot</c> for main.bicep with <paramref name="parameters"/> (Bicep literals) besides the required ones.</summary>
    public static async Task<DeploymentSnapshot> CreateAsync(IReadOnlyDictionary<string, string>? parameters = null)
    {
        var folder = Directory.CreateTempSubdirectory("cloudstore-bicep-");
        try
        {
            // A .bicepparam file must name its template by a relative path.
            var parameterFile = new StringBuilder()
                .Append(CultureInfo.InvariantCulture, $"using '{Path.GetRelativePath(folder.FullName, Bicep.MainFile)}'\n")
                .Append(CultureInfo.InvariantCulture, $"param environmentName = '{EnvironmentName}'\n")
                .Append(CultureInfo.InvariantCulture, $"param location = '{Location}'\n");
            foreach (var (name, value) in parameters ?? new Dictionary<string, string>())
            {
                parameterFile.Append(CultureInfo.InvariantCulture, $"param {name} = {value}\n");
            }

            var file = Path.Combine(folder.FullName, "main.bicepparam");
            await File.WriteAllTextAsync(file, parameterFile.ToString());
            var run = await Bicep.RunAsync(
                ["snapshot", file, "--subscription-id", SubscriptionId, "--tenant-id", TenantId, "--location", Location],
                folder.FullName);
            if (run.ExitCode != 0)
            {
                throw new InvalidOperationException($"bicep snapshot failed: {run}");
            }

            using var document = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(folder.FullName, "main.snapshot.json")));
            return new DeploymentSnapshot(document.RootElement.Clone());
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    public IReadOnlyList<JsonElement> Resources(string type) =>
        [.. PredictedResources.Where(resource => string.Equals(ArmTemplate.TypeOf(resource), type, StringComparison.OrdinalIgnoreCase))];

    public static string ResourceId(string type, string name) => $"{ResourceGroupId}/providers/{type}/{name}";

    /// <summary>The resource a role assignment is attached to (its <c>scope</c>), read from its evaluated id.</summary>
    public static string ScopeOf(JsonElement roleAssignment)
    {
        var id = roleAssignment.GetProperty("id").GetString()!;
        var match = ExtensionResourceId().Match(id);
        return match.Success
            ? match.Groups["scope"].Value
            : throw new Xunit.Sdk.XunitException($"Role assignment {id} is not an extension resource of one resource.");
    }

    /// <summary>The resource id inside a <c>reference('…')</c> expression, e.g. the identity behind a principal id.</summary>
    public static string ReferencedResource(string expression)
    {
        var match = Reference().Match(expression);
        return match.Success ? match.Groups["id"].Value : throw new Xunit.Sdk.XunitException($"{expression} references no resource.");
    }

    /// <summary>The last segment of a role definition id: the role's GUID.</summary>
    public static string RoleOf(JsonElement roleAssignment) =>
        roleAssignment.GetProperty("properties").GetProperty("roleDefinitionId").GetString()!.Split('/')[^1];

    [GeneratedRegex(@"^\[extensionResourceId\('(?<scope>[^']+)', 'Microsoft\.Authorization/roleAssignments', ")]
    private static partial Regex ExtensionResourceId();

    [GeneratedRegex(@"^\[reference\('(?<id>[^']+)', '[^']+'\)\.[A-Za-z]+\]\z")]
    private static partial Regex Reference();
}
