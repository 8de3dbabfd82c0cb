using CloudStore.Contracts;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;

namespace CloudStore.LocalStack;

/// <summary>The demo organisation and its administrator, made on the first run and kept in the state folder.</summary>
public sealed record DemoAccount(Guid OrganizationId, string AdministratorEmail, string AdministratorPassword);

/// <summary><c>./cloudstore demo</c>: the whole stack with a demo organisation, until Ctrl-C.</summary>
public static class Demo
{
    public const string ReadyLine = "CloudStore is running.";
    const string AdministratorEmail = "admin@demo.cloudstore.test";

    public static async Task<int> RunAsync(LocalCloudOptions options, CancellationToken stopping)
    {
        Console.WriteLine($"Starting the local stack (state in {options.StateFolder}) ...");
        await using var stack = await LocalCloud.StartAsync(options, stopping);
        var account = await EnsureDemoAccountAsync(stack, stopping);

        Console.WriteLine($$"""

            {{ReadyLine}}
              Player        {{stack.PlayerUrl}}
              Functions API {{stack.FunctionsUrl}}api   (OpenAPI: {{stack.FunctionsUrl}}api/openapi/v1.json)
              Key server    {{stack.KeyServerUrl}}
              Azurite blobs https://127.0.0.1:{{stack.Azurite.Port}}/  (one account per region: {{string.Join(", ", stack.Azurite.Accounts.Select(a => a.Name))}})
              Local CA      {{stack.Certificates.CaCertificate}}  (trust it in your client, e.g. curl --cacert)

            Demo organisation {{account.OrganizationId}}
              administrator {{account.AdministratorEmail}}
              password      {{account.AdministratorPassword}}
              Two-step verification is required for administrators: the first sign-in enrols an authenticator app.
              Try:  curl --cacert {{stack.Certificates.CaCertificate}} -H 'Content-Type: application/json' \
                      -d '{"email":"{{account.AdministratorEmail}}","password":"…"}' {{stack.FunctionsUrl}}api/auth/sign-in

            Logs in {{Path.Combine(options.StateFolder, "logs")}}. Press Ctrl-C to stop.
            """);

        try
        {
            await Task.Delay(Timeout.Infinite, stopping);
        }
        catch (OperationCanceledException)
        {
            Console.WriteLine("Stopping ...");
        }

        return 0;
    }

    static async Task<DemoAccount> EnsureDemoAccountAsync(LocalCloud stack, CancellationToken cancellationToken)
    {
        var file = Path.Combine(stack.Options.StateFolder, "demo-account.json");
        if (File.Exists(file) && JsonSerializer.Deserialize<DemoAccount>(await File.ReadAllTextAsync(file, cancellationToken)) is { } existing)
        {
            return existing;
        }

        // A random passphrase, never a fixed demo password: the demo listens on loopback only, but habits travel.
        var password = "demo-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));
        var passwordFile = Path.Combine(stack.Options.StateFolder, "functions", "provision-password.tmp");
        PrivateFile.Write(passwordFile, password);
        try
        {
            var output = await RunFunctionsCommandAsync(stack, ["provision", "--name", "Demo Organisation", "--admin-email", AdministratorEmail, "--admin-password-file", passwordFile], cancellationToken);
            using var ids = JsonDocument.Parse(output);
            var account = new DemoAccount(ids.RootElement.GetProperty("organizationId").GetGuid(), AdministratorEmail, password);
            PrivateFile.Write(file, JsonSerializer.Serialize(account));
            return account;
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    /// <summary>Runs an operations command of the functions app against the stack's directory.</summary>
    public static async Task<string> RunFunctionsCommandAsync(LocalCloud stack, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = RepositoryLayout.Root,
        };
        start.ArgumentList.Add(RepositoryLayout.HostAssembly("functions", "CloudStore.Functions"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in stack.CommonSettings(new Uri("https://127.0.0.1:1/")).Concat(stack.FunctionsSettings()))
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"functions {string.Join(' ', start.ArgumentList.Skip(1).Take(1))} failed ({process.ExitCode}): {await error}");
        }

        return await output;
    }
}
