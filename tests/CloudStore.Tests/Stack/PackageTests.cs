using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using CloudStore.LocalStack;
using Xunit;

namespace CloudStore.Tests.Stack;

/// <summary><c>./cloudstore package</c>: zips that Azure can run as they are, described by their manifest.</summary>
public sealed class PackageTests : IDisposable
{
    readonly string _output = Directory.CreateTempSubdirectory("cloudstore-dist-").FullName;

    [Fact]
    public async Task Package_Artefacts_FunctionZipHoldsAnIsolatedWorkerAppAndTheManifestMatchesEveryZip()
    {
        var manifest = await Packaging.RunAsync(_output, TimeProvider.System, CancellationToken.None);

        Assert.Equal(["functions", "keyserver", "player"], manifest.Artefacts.Select(a => a.Name));
        foreach (var artefact in manifest.Artefacts)
        {
            var bytes = await File.ReadAllBytesAsync(Path.Combine(_output, artefact.File));
            Assert.Equal(artefact.Bytes, bytes.Length);
            Assert.Equal(artefact.Sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
        }

        Assert.True(File.Exists(Path.Combine(_output, "manifest.json")));
        using var functions = ZipFile.OpenRead(Path.Combine(_output, "functions.zip"));
        var entries = functions.Entries.Select(e => e.FullName).ToHashSet(StringComparer.Ordinal);
        // What the Functions host reads at the zip's root to start a dotnet-isolated app.
        Assert.Superset(new HashSet<string>(["host.json", "functions.metadata", "worker.config.json", "extensions.json", "CloudStore.Functions.dll",
            "CloudStore.ControlPlane.dll", "CloudStore.Functions.runtimeconfig.json", ".azurefunctions/function.deps.json"], StringComparer.Ordinal), entries);
        Assert.DoesNotContain(entries, e => e.EndsWith("local.settings.json", StringComparison.Ordinal) || e.EndsWith(".pem", StringComparison.Ordinal) || e.EndsWith(".db", StringComparison.Ordinal));

        var host = JsonNode.Parse(await ReadAsync(functions, "host.json"))!;
        Assert.Null(host["customHandler"]);
        var metadata = JsonNode.Parse(await ReadAsync(functions, "functions.metadata"))!.AsArray();
        Assert.Contains(metadata, f => f!["name"]!.GetValue<string>() == "IndexSegments");
        Assert.Contains(metadata, f => f!["name"]!.GetValue<string>() == "RetentionSweep");
        Assert.All(metadata, f => Assert.Equal("dotnet-isolated", f!["language"]!.GetValue<string>()));

        using var player = ZipFile.OpenRead(Path.Combine(_output, "player.zip"));
        Assert.Contains(player.Entries, e => e.FullName == "CloudStore.Player.dll");
        Assert.Contains(player.Entries, e => e.FullName.EndsWith("hls.light.min.mjs", StringComparison.Ordinal));
        using var keyServer = ZipFile.OpenRead(Path.Combine(_output, "keyserver.zip"));
        Assert.Contains(keyServer.Entries, e => e.FullName == "CloudStore.KeyServer.dll");
    }

    static async Task<string> ReadAsync(ZipArchive zip, string name)
    {
        using var reader = new StreamReader(zip.GetEntry(name)!.Open());
        return await reader.ReadToEndAsync();
    }

    public void Dispose() => Directory.Delete(_output, recursive: true);
}
