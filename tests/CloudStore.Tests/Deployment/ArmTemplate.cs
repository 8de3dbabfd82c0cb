using System.Text.Json;

namespace CloudStore.Tests.Deployment;

/// <summary>
/// A compiled ARM template and the templates nested in it: each Bicep module becomes a
/// <c>Microsoft.Resources/deployments</c> resource whose <c>properties.template</c> is the module's template.
/// </summary>
public sealed class ArmTemplate
{
    public const string DeploymentType = "Microsoft.Resources/deployments";

    ArmTemplate(JsonElement root, string path)
    {
        Root = root;
        Path = path;
    }

    public JsonElement Root { get; }

    /// <summary>Where the template sits: <c>main</c>, <c>main/regional-…</c>, … (for assertion messages).</summary>
    public string Path { get; }

    public static async Task<ArmTemplate> BuildAsync(string bicepFile)
    {
        var run = await Bicep.RunAsync(["build", bicepFile, "--stdout"]);
        if (run.ExitCode != 0 || run.Errors.Length > 0)
        {
            throw new InvalidOperationException($"bicep build {bicepFile} failed: {run}");
        }

        using var document = JsonDocument.Parse(run.Output);
        return new ArmTemplate(document.RootElement.Clone(), System.IO.Path.GetFileNameWithoutExtension(bicepFile));
    }

    /// <summary>This template and every template nested in it, depth first.</summary>
    public IEnumerable<ArmTemplate> AllTemplates()
    {
        yield return this;
        foreach (var deployment in OwnResources().Where(resource => TypeOf(resource) == DeploymentType))
        {
            var nested = new ArmTemplate(deployment.GetProperty("properties").GetProperty("template"), $"{Path}/{NameOf(deployment)}");
            foreach (var template in nested.AllTemplates())
            {
                yield return template;
            }
        }
    }

    /// <summary>Resources declared in this template itself (symbolic-name templates keep them in an object).</summary>
    public IEnumerable<JsonElement> OwnResources()
    {
        if (!Root.TryGetProperty("resources", out var resources))
        {
            return [];
        }

        return resources.ValueKind == JsonValueKind.Array
            ? resources.EnumerateArray()
            : resources.EnumerateObject().Select(property => property.Value);
    }

    /// <summary>Every resource declaration of the given type in this template and all nested ones.</summary>
    public IReadOnlyList<(ArmTemplate Template, JsonElement Resource)> Resources(string type) =>
    [
        .. AllTemplates().SelectMany(template => template.OwnResources()
            .Where(resource => string.Equals(TypeOf(resource), type, StringComparison.OrdinalIgnoreCase))
            .Select(resource => (template, resource))),
    ];

    public IEnumerable<JsonProperty> Outputs() =>
        Root.TryGetProperty("outputs", out var outputs) ? outputs.EnumerateObject() : [];

    public IEnumerable<JsonProperty> Parameters() =>
        Root.TryGetProperty("parameters", out var parameters) ? parameters.EnumerateObject() : [];

    public static string TypeOf(JsonElement resource) => resource.GetProperty("type").GetString()!;

    public static string NameOf(JsonElement resource) => resource.GetProperty("name").GetString()!;

    /// <summary>A property path such as <c>properties.siteConfig.minTlsVersion</c>, or null when absent.</summary>
    public static JsonElement? Find(JsonElement element, string path)
    {
        foreach (var name in path.Split('.'))
        {
            if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out element))
            {
                return null;
            }
        }

        return element;
    }

    /// <summary>The literal at a property path; fails when it is missing or an ARM expression.</summary>
    public static JsonElement Literal(JsonElement resource, string path)
    {
        var value = Find(resource, path) ?? throw new Xunit.Sdk.XunitException($"{NameOf(resource)}: {path} is missing");
        if (value.ValueKind == JsonValueKind.String && value.GetString()!.StartsWith('[') && value.GetString()!.EndsWith(']'))
        {
            throw new Xunit.Sdk.XunitException($"{NameOf(resource)}: {path} is an expression ({value}), not a literal");
        }

        return value;
    }
}
