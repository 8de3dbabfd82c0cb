using System.Diagnostics;
using CloudStore.LocalStack;

namespace CloudStore.Tests.Infrastructure;

/// <summary>Runs the built command-line programs as a user would.</summary>
public static class Cli
{
    public static async Task<(int ExitCode, string Output)> RunCameraAsync(string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(RepositoryLayout.HostAssembly(Path.Combine("device", "CloudStore.Camera"), "cloudstore-camera"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output + await errors);
    }
}
