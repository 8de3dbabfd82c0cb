using System.Diagnostics;
using System.Reflection;
using CloudStore.LocalStack;

namespace CloudStore.Tests.Deployment;

/// <summary>
/// The Bicep compiler from the Azure.Bicep.CommandLine.linux-x64 package (its <c>tools/bicep</c>), run
/// offline on the templates under <c>infra/azure</c>. Nothing it does here needs the network: the templates
/// use no registry modules.
/// </summary>
public static class Bicep
{
    public static string InfraFolder { get; } = Path.Combine(RepositoryLayout.Root, "infra", "azure");

    public static string MainFile { get; } = Path.Combine(InfraFolder, "main.bicep");

    /// <summary>Every .bicep file under infra/azure, relative to it (stable test case names).</summary>
    public static IReadOnlyList<string> Files { get; } =
    [
        .. Directory.GetFiles(InfraFolder, "*.bicep", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(InfraFolder, file))
            .Order(StringComparer.Ordinal),
    ];

    static readonly Lazy<string> Executable = new(Locate);

    public static async Task<BicepRun> RunAsync(IEnumerable<string> arguments, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(Executable.Value)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? InfraFolder,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Executable.Value}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return new BicepRun(process.ExitCode, await output, await errors);
    }

    /// <summary>The package path is recorded at build time (CloudStore.Tests.csproj); NuGet does not keep the execute bit everywhere.</summary>
    static string Locate()
    {
        var path = typeof(Bicep).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .SingleOrDefault(attribute => attribute.Key == "BicepExecutable")?.Value;
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            throw new InvalidOperationException(
                $"The Bicep compiler is missing ('{path}'): restore tests/CloudStore.Tests (package Azure.Bicep.CommandLine.linux-x64).");
        }

        var mode = File.GetUnixFileMode(path);
        if (!mode.HasFlag(UnixFileMode.UserExecute))
        {
            File.SetUnixFileMode(path, mode | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        }

        return path;
    }
}

public sealed record BicepRun(int ExitCode, string Output, string Errors)
{
    public override string ToString() => $"exit code {ExitCode}\n{Errors}\n{Output}";
}
