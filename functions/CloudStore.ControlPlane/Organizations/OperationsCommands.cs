using System.Globalization;
using System.Text.Json;
using CloudStore.ControlPlane.Data;
using CloudStore.ControlPlane.Regional;
using Microsoft.Extensions.Options;

namespace CloudStore.ControlPlane.Organizations;

/// <summary>
/// What operations runs against the directory, as commands of the functions app:
/// <list type="bullet">
/// <item><c>provision --name NAME --admin-email EMAIL --admin-password-file FILE [--id GUID]</c>: activate the service
/// for a customer (an organisation, its first administrator, a one-year subscription). The password is read
/// from a file so it never appears in a process list or shell history.</item>
/// <item><c>subscription --organization ID --ends 2027-11-22T00:00:00Z</c>: renew or end a subscription.</item>
/// <item><c>licences --organization ID --count N</c> or <c>--key CSL-XXXXX-XXXXX-XXXXX-XXXXX</c>: add licences (a
/// number, or the one a partner's key stands for; a key is accepted once), within the 30-day allocation window.</item>
/// <item><c>delete-organization --organization ID --confirm-name NAME [--held-recordings delete]</c>: delete an organisation
/// as its administrator can (<see cref="Decommissioning.OrganizationDeletion"/>), refused while legal holds are active unless
/// told to delete held recordings too. Run again for a deleted organisation, it retries the key destruction and reports it.</item>
/// </list>
/// <item><c>migrate</c>: apply the directory's and every configured region's pending schema migrations (before a new
/// build starts: an instance refuses to start on an older schema unless <c>Directory:ApplyMigrationsOnStart</c>).</item>
/// Each prints its result as JSON on stdout.
/// </summary>
public static class OperationsCommands
{
    public static bool IsCommand(string[] args) => args is ["provision" or "subscription" or "licences" or "delete-organization" or "migrate", ..];

    /// <summary>The <c>migrate</c> command, which runs before the schemas are current (the others need them current).</summary>
    public static bool IsMigrate(string[] args) => args is ["migrate"];

    public static async Task<int> MigrateAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var directory = services.GetRequiredService<IOptions<DirectoryOptions>>().Value;
        var applied = await DatabaseMigrations.MigrateDirectoryAsync(directory.Provider, directory.ConnectionString, cancellationToken,
            services.SignedInDataSource(directory.Provider, directory.ConnectionString, directory.Credential));
        var regions = await services.GetRequiredService<RegionCatalog>().MigrateAllAsync(cancellationToken);
        Console.WriteLine(JsonSerializer.Serialize(new { directory = applied, regions }));
        return 0;
    }

    public static async Task<int> RunAsync(IServiceProvider services, string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 1; i + 1 < args.Length; i += 2)
        {
            options[args[i]] = args[i + 1];
        }

        await using var scope = services.CreateAsyncScope();
        var provisioning = scope.ServiceProvider.GetRequiredService<OrganizationProvisioning>();
        try
        {
            switch (args[0])
            {
                case "provision" when options.TryGetValue("--name", out var name) && options.TryGetValue("--admin-email", out var email)
                    && options.TryGetValue("--admin-password-file", out var passwordFile)
                    && (!options.TryGetValue("--id", out var chosenId) || Guid.TryParse(chosenId, out _)):
                    // --id: the id that single sign-on settings (Auth:ExternalIssuers) already name for this organisation.
                    var password = (await File.ReadAllTextAsync(passwordFile)).TrimEnd('\r', '\n');
                    var created = await provisioning.CreateAsync(name, email, password, CancellationToken.None, chosenId is null ? null : Guid.Parse(chosenId));
                    Console.WriteLine(JsonSerializer.Serialize(new { organizationId = created.Organization.Id, administratorId = created.Administrator.Id }));
                    return 0;
                case "subscription" when options.TryGetValue("--organization", out var id) && Guid.TryParse(id, out var organizationId)
                    && options.TryGetValue("--ends", out var ends)
                    && DateTimeOffset.TryParse(ends, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var endsAt):
                    if (!await provisioning.SetSubscriptionEndAsync(organizationId, endsAt, CancellationToken.None))
                    {
                        await Console.Error.WriteLineAsync($"No organisation {organizationId}.");
                        return 1;
                    }

                    Console.WriteLine(JsonSerializer.Serialize(new { organizationId, subscriptionEndsAt = endsAt }));
                    return 0;
                case "licences" when options.TryGetValue("--organization", out var id) && Guid.TryParse(id, out var organizationId)
                    && (options.ContainsKey("--count") ^ options.ContainsKey("--key")):
                    var licences = scope.ServiceProvider.GetRequiredService<Licences.LicenceService>();
                    var added = options.TryGetValue("--key", out var key)
                        ? await licences.AddPartnerKeyAsync(organizationId, key, CancellationToken.None)
                        : int.TryParse(options["--count"], NumberStyles.None, CultureInfo.InvariantCulture, out var count)
                            ? await licences.AddCountAsync(organizationId, count, CancellationToken.None)
                            : new Licences.LicenceService.Added(0, $"--count must be from 1 to {Licences.LicenceRules.MaxCount}.");
                    if (added.Refusal is not null)
                    {
                        await Console.Error.WriteLineAsync(added.Refusal);
                        return 1;
                    }

                    Console.WriteLine(JsonSerializer.Serialize(new { organizationId, added = added.Count }));
                    return 0;
                case "delete-organization" when options.TryGetValue("--organization", out var id) && Guid.TryParse(id, out var organizationId)
                    && options.TryGetValue("--confirm-name", out var confirmName)
                    && options.GetValueOrDefault("--held-recordings", "keep") is "keep" or "delete":
                    return await DeleteOrganizationAsync(scope.ServiceProvider, organizationId, confirmName, options.GetValueOrDefault("--held-recordings") == "delete");
                default:
                    await Console.Error.WriteLineAsync("usage: provision --name NAME --admin-email EMAIL --admin-password-file FILE [--id GUID]\n       subscription --organization ID --ends ISO-8601-TIME\n       licences --organization ID (--count N | --key PARTNER-KEY)\n       delete-organization --organization ID --confirm-name NAME [--held-recordings delete]\n       migrate");
                    return 2;
            }
        }
        catch (ArgumentException e)
        {
            await Console.Error.WriteLineAsync(e.Message);
            return 1;
        }
    }

    /// <summary>Prints what the deletion has done (as the administrator's answer); exit 1 with the reason when refused.</summary>
    static async Task<int> DeleteOrganizationAsync(IServiceProvider services, Guid organizationId, string confirmName, bool deleteHeld)
    {
        var result = await services.GetRequiredService<Decommissioning.OrganizationDeletion>()
            .RequestByOperationsAsync(organizationId, confirmName, deleteHeld, CancellationToken.None);
        if (result.Tombstone is { } tombstone)
        {
            Console.WriteLine(JsonSerializer.Serialize(Decommissioning.DecommissionEndpoints.ToResponse(tombstone), JsonSerializerOptions.Web));
            return 0;
        }

        await Console.Error.WriteLineAsync(result.Outcome switch
        {
            Decommissioning.OrganizationDeletionOutcome.NameMismatch => "--confirm-name is not the organisation's name.",
            Decommissioning.OrganizationDeletionOutcome.LegalHoldsActive =>
                $"{result.ActiveHolds} legal hold(s) are active; release them, or add --held-recordings delete to delete what they keep too.",
            Decommissioning.OrganizationDeletionOutcome.AlreadyDeleted => "Deleted a moment ago by another request; run the command again for its state.",
            _ => $"No organisation {organizationId}.",
        });
        return 1;
    }
}
