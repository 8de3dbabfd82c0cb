using System.Text.Json;

namespace CloudStore.Functions.Organizations;

/// <summary>
/// <c>dotnet CloudStore.Functions.dll provision --name NAME --admin-email EMAIL --admin-password-file FILE</c>:
/// creates an organisation and its first administrator, printing their ids as JSON. The password is read
/// from a file so it never appears in a process list or shell history.
/// </summary>
public static class ProvisionCommand
{
    public const string Name = "provision";

    public static async Task<int> RunAsync(IServiceProvider services, string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            options[args[i]] = args[i + 1];
        }

        if (!options.TryGetValue("--name", out var name) || !options.TryGetValue("--admin-email", out var email)
            || !options.TryGetValue("--admin-password-file", out var passwordFile))
        {
            await Console.Error.WriteLineAsync("usage: provision --name NAME --admin-email EMAIL --admin-password-file FILE");
            return 2;
        }

        await using var scope = services.CreateAsyncScope();
        var provisioning = scope.ServiceProvider.GetRequiredService<OrganizationProvisioning>();
        try
        {
            var password = (await File.ReadAllTextAsync(passwordFile)).TrimEnd('\r', '\n');
            var created = await provisioning.CreateAsync(name, email, password, CancellationToken.None);
            Console.WriteLine(JsonSerializer.Serialize(new { organizationId = created.Organization.Id, administratorId = created.Administrator.Id }));
            return 0;
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 1;
        }
    }
}
