using System.Diagnostics;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;

namespace CloudStore.LocalStack;

/// <summary>One deployable artefact: a zip for zip deployment, and where it goes.</summary>
public sealed record Artefact(string Name, string File, string Target, string Runtime, string RuntimeVersion, long Bytes, string Sha256);

/// <summary>The manifest beside the artefacts (<c>manifest.json</c>): what each zip is and its digest.</summary>
public sealed record PackageManifest(DateTimeOffset CreatedAt, string Configuration, IReadOnlyList<Artefact> Artefacts);

/// <summary>
/// <c>./cloudstore package</c>: the deployable artefacts from the current build, into one folder. The
/// function app zip is what Flex Consumption's one-deploy takes (the publish output at the zip's root:
/// host.json, functions.metadata, worker.config.json, extensions.json and the worker); the key server and
/// the player are App Service zip deployments. Publishing reuses the build (<c>--no-build</c>), so it
/// never rewrites the binaries running hosts or tests use.
/// </summary>
public static class Packaging
{
    static readonly (string Name, string Project, string Target, string Runtime)[] Hosts =
    [
        ("functions", "functions/CloudStore.Functions/CloudStore.Functions.csproj", "Azure Functions (Flex Consumption)", "dotnet-isolated"),
        ("keyserver", "keyserver/CloudStore.KeyServer.csproj", "Azure App Service (Linux)", "DOTNETCORE"),
        ("player", "player/CloudStore.Player.csproj", "Azure App Service (Linux)", "DOTNETCORE"),
    ];

    static readonly JsonSerializerOptions Indented = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static async Task<PackageManifest> RunAsync(string outputFolder, TimeProvider time, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(outputFolder);
        var staging = Directory.CreateTempSubdirectory("cloudstore-package-");
        try
        {
            var artefacts = new List<Artefact>();
            foreach (var host in Hosts)
            {
                var published = Path.Combine(staging.FullName, host.Name);
                await PublishAsync(host.Project, published, cancellationToken);
                var zip = Path.Combine(outputFolder, host.Name + ".zip");
                File.Delete(zip);
                ZipFile.CreateFromDirectory(published, zip, CompressionLevel.Optimal, includeBaseDirectory: false);
                await using var stream = File.OpenRead(zip);
                var digest = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
                artefacts.Add(new Artefact(host.Name, Path.GetFileName(zip), host.Target, host.Runtime, "10.0", stream.Length, digest));
            }

            var manifest = new PackageManifest(time.GetUtcNow(), RepositoryLayout.Configuration, artefacts);
            await File.WriteAllTextAsync(Path.Combine(outputFolder, "manifest.json"), JsonSerializer.Serialize(manifest, Indented), cancellationToken);
            return manifest;
        }
        finally
        {
            staging.Delete(recursive: true);
        }
    }

    static async Task PublishAsync(string project, string output, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepositoryLayout.Root };
        foreach (var argument in new[] { "publish", project, "-c", RepositoryLayout.Configuration, "--no-build", "-o", output, "-nologo", "-v", "q" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start dotnet publish");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet publish {project} failed ({process.ExitCode}): {await stdout}{await stderr}");
        }
    }
}
