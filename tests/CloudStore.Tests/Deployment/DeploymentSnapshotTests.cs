using System.Text.Json;
using System.Text.RegularExpressions;
using CloudStore.Contracts;
using Xunit;

namespace CloudStore.Tests.Deployment;

/// <summary>
/// What a deployment of main.bicep with the default parameters would create (<c>bicep snapshot</c>: loops
/// and modules expanded, names and scopes evaluated): one data plane per region, and who may do what where.
/// </summary>
[Collection(UsesCompiledInfrastructure.Name)]
public sealed partial class DeploymentSnapshotTests(CompiledInfrastructure infrastructure)
{
    static readonly Dictionary<string, string> AzureLocations = new(StringComparer.Ordinal)
    {
        [Regions.AustraliaSydney] = "australiaeast",
        [Regions.CanadaToronto] = "canadacentral",
        [Regions.EuFrankfurt] = "germanywestcentral",
        [Regions.UkLondon] = "uksouth",
        [Regions.UsVirginia] = "eastus",
    };

    DeploymentSnapshot Snapshot => infrastructure.Snapshot;

    [Fact]
    public void Snapshot_DefaultParameters_OneStorageAccountVaultAndIndexServerPerRegion()
    {
        foreach (var type in new[] { "Microsoft.Storage/storageAccounts", "Microsoft.KeyVault/vaults", "Microsoft.DBforPostgreSQL/flexibleServers" })
        {
            var regional = RegionalResources(type);

            Assert.True(regional.Count == 5, $"{type}: {regional.Count} regional resources");
            Assert.Equal(Regions.All.Order(StringComparer.Ordinal), regional.Keys.Order(StringComparer.Ordinal));
            foreach (var (region, resource) in regional)
            {
                Assert.Equal(AzureLocations[region], resource.GetProperty("location").GetString());
            }
        }

        // Besides the regional ones, only the function app's host account: no other store of data exists.
        var others = Snapshot.Resources("Microsoft.Storage/storageAccounts").Where(account => RegionTag(account) is null).ToList();
        Assert.StartsWith("stfunc", ArmTemplate.NameOf(Assert.Single(others)), StringComparison.Ordinal);
        Assert.Equal(5, Snapshot.Resources("Microsoft.KeyVault/vaults").Count);
        // Besides the regional ones, only the control plane's database server (ControlDatabase_…).
        Assert.Equal(6, Snapshot.Resources("Microsoft.DBforPostgreSQL/flexibleServers").Count);
    }

    [Fact]
    public void ControlDatabase_DefaultParameters_InTheControlPlaneLocation_DirectoryAndPlayerDatabases_TheTwoAppsAsEntraAdministrators()
    {
        var server = Assert.Single(Snapshot.Resources("Microsoft.DBforPostgreSQL/flexibleServers"), server => RegionTag(server) is null);
        var name = ArmTemplate.NameOf(server);

        Assert.StartsWith("psql-control-", name, StringComparison.Ordinal);
        Assert.Equal(DeploymentSnapshot.Location, server.GetProperty("location").GetString());
        Assert.Equal(
            ["cloudstore_directory", "cloudstore_player"],
            Snapshot.Resources("Microsoft.DBforPostgreSQL/flexibleServers/databases").Select(ArmTemplate.NameOf)
                .Where(database => database.StartsWith($"{name}/", StringComparison.Ordinal)).Select(database => database.Split('/')[1]).Order(StringComparer.Ordinal));
        // An administrator's name is the server's and the identity's principal id (known at deployment only).
        var administrators = Snapshot.Resources("Microsoft.DBforPostgreSQL/flexibleServers/administrators")
            .Where(administrator => ArmTemplate.NameOf(administrator).Contains($"'{name}'", StringComparison.Ordinal))
            .Select(administrator => administrator.GetProperty("properties").GetProperty("principalName").GetString()!)
            .Order(StringComparer.Ordinal);
        Assert.Collection(administrators,
            functions => Assert.StartsWith("id-functions-", functions, StringComparison.Ordinal),
            player => Assert.StartsWith("id-player-", player, StringComparison.Ordinal));
    }

    [Fact]
    public void RoleAssignments_Evaluated_EachScopedToOneStorageAccountOrVault()
    {
        var assignments = Snapshot.Resources("Microsoft.Authorization/roleAssignments");

        Assert.Equal(16, assignments.Count); // per region: blob data, delegator, key server keys; plus the host account
        foreach (var assignment in assignments)
        {
            var scope = DeploymentSnapshot.ScopeOf(assignment);
            Assert.Matches(OneAccountOrVault(), scope);
            Assert.Contains(Snapshot.PredictedResources, resource => resource.GetProperty("id").GetString() == scope);
        }
    }

    [Fact]
    public void FunctionsIdentity_RoleAssignments_BlobRolesOnEachAccountAndNoKeyVaultRole()
    {
        var byScope = AssignmentsOf("id-functions-")
            .GroupBy(DeploymentSnapshot.ScopeOf)
            .ToDictionary(group => group.Key, group => group.Select(DeploymentSnapshot.RoleOf).Order(StringComparer.Ordinal).ToList());

        foreach (var (_, account) in RegionalResources("Microsoft.Storage/storageAccounts"))
        {
            Assert.Equal(
                new[] { AzureRoles.StorageBlobDataContributor, AzureRoles.StorageBlobDelegator }.Order(StringComparer.Ordinal),
                byScope[account.GetProperty("id").GetString()!]);
        }

        var hostAccount = Snapshot.Resources("Microsoft.Storage/storageAccounts").Single(account => RegionTag(account) is null);
        Assert.Equal([AzureRoles.StorageBlobDataOwner], byScope[hostAccount.GetProperty("id").GetString()!]);
        Assert.Equal(6, byScope.Count);

        // Nothing on a vault, and no role that can use keys, built-in or custom.
        Assert.DoesNotContain(byScope.Keys, scope => scope.Contains("/Microsoft.KeyVault/", StringComparison.Ordinal));
        var roles = byScope.Values.SelectMany(role => role).ToList();
        Assert.All(roles, role => Assert.DoesNotContain(role, AzureRoles.KeyVaultKeyUsers));
        Assert.DoesNotContain(KeyServerRole().GetProperty("name").GetString(), roles);
    }

    [Fact]
    public void KeyServerIdentity_RoleAssignments_KeyRoleOnEachRegionalVaultOnly()
    {
        var assignments = AssignmentsOf("id-keyserver-");
        var vaults = RegionalResources("Microsoft.KeyVault/vaults").Values.Select(vault => vault.GetProperty("id").GetString()).ToList();

        Assert.Equal(vaults.Order(StringComparer.Ordinal), assignments.Select(DeploymentSnapshot.ScopeOf).Order(StringComparer.Ordinal));
        var role = KeyServerRole();
        Assert.All(assignments, assignment => Assert.Equal(role.GetProperty("id").GetString(), assignment.GetProperty("properties").GetProperty("roleDefinitionId").GetString()));

        // The custom role: key use and deletion only (no purge, recover, import, secrets), no management action, assignable in this group only.
        var permissions = Assert.Single(role.GetProperty("properties").GetProperty("permissions").EnumerateArray());
        var dataActions = permissions.GetProperty("dataActions").EnumerateArray().Select(action => action.GetString()!).ToList();
        Assert.Contains("Microsoft.KeyVault/vaults/keys/unwrap/action", dataActions);
        Assert.DoesNotContain(dataActions, action => action.Contains("purge", StringComparison.Ordinal) || action.Contains("recover", StringComparison.Ordinal));
        Assert.All(dataActions, action => Assert.Contains(action, AzureRoles.KeyServerDataActionsAllowed));
        Assert.Empty(permissions.GetProperty("actions").EnumerateArray());
        Assert.Equal(
            [DeploymentSnapshot.ResourceGroupId],
            role.GetProperty("properties").GetProperty("assignableScopes").EnumerateArray().Select(scope => scope.GetString()));
    }

    [Fact]
    public void PlayerIdentity_RoleAssignments_None()
    {
        Assert.Empty(AssignmentsOf("id-player-"));

        // Every assignment belongs to the functions' or the key server's identity.
        Assert.Equal(
            Snapshot.Resources("Microsoft.Authorization/roleAssignments").Count,
            AssignmentsOf("id-functions-").Count + AssignmentsOf("id-keyserver-").Count);
    }

    [Fact]
    public void BlobCors_DefaultParameters_OnlyThePlayersDefaultHostName()
    {
        var player = Assert.Single(Snapshot.Resources("Microsoft.Web/sites"), site => ServiceName(site) == "player");
        var origin = $"https://{ArmTemplate.NameOf(player)}.azurewebsites.net";

        AssertCorsOrigin(Snapshot, origin);
        Assert.Equal(origin, Snapshot.Outputs.GetProperty("PLAYER_ORIGIN").GetString());
    }

    [Fact]
    public async Task BlobCors_PlayerOriginParameter_IsTheOnlyOrigin()
    {
        var snapshot = await DeploymentSnapshot.CreateAsync(new Dictionary<string, string> { ["playerOrigin"] = "'https://watch.example.com'" });

        AssertCorsOrigin(snapshot, "https://watch.example.com");
    }

    [Fact]
    public void WebApps_AppSettings_NoSecretAndEveryRegionWired()
    {
        var sites = Snapshot.Resources("Microsoft.Web/sites");

        Assert.Equal(["functions", "keyserver", "player"], sites.Select(ServiceName).Order(StringComparer.Ordinal));
        foreach (var site in sites)
        {
            var settings = site.GetProperty("properties").GetProperty("siteConfig").GetProperty("appSettings").EnumerateArray()
                .ToDictionary(setting => setting.GetProperty("name").GetString()!, setting => setting.GetProperty("value").GetString()!);
            Assert.All(settings, setting => Assert.DoesNotMatch(SecretValue(), setting.Value));
            Assert.Contains("APPLICATIONINSIGHTS_CONNECTION_STRING", settings.Keys);
            Assert.Contains("AZURE_CLIENT_ID", settings.Keys);

            switch (ServiceName(site))
            {
                case "functions":
                    Assert.All(Regions.All, region =>
                    {
                        Assert.Equal("managed-identity", settings[$"Regions__{region}__Storage__Credential"]);
                        AssertEntraPostgres(settings, $"Regions__{region}__Index", "id-functions-", applyMigrationsOnStart: null);
                    });
                    AssertEntraPostgres(settings, "Directory", "id-functions-", applyMigrationsOnStart: "true");
                    Assert.DoesNotContain("AzureWebJobsStorage", settings.Keys); // no connection string: the identity-based settings only
                    break;
                case "keyserver":
                    Assert.All(Regions.All, region => Assert.Contains($"KeyServer__KeyVaults__{region}", settings.Keys));
                    Assert.Equal("AzureKeyVault", settings["KeyServer__KeyStore"]);
                    Assert.Contains("KeyServer__ManagedIdentityClientId", settings.Keys);
                    break;
                default:
                    Assert.DoesNotContain(settings.Keys, name => name.StartsWith("KeyServer__KeyVaults", StringComparison.Ordinal));
                    AssertEntraPostgres(settings, "Player__Database", "id-player-", applyMigrationsOnStart: "true");
                    break;
            }

            // Every database a host is given is PostgreSQL signed in with the host's identity: a connection string without
            // its provider would be opened as SQLite, one without its credential would sign in with no password.
            Assert.All(settings.Keys.Where(key => key.EndsWith("__ConnectionString", StringComparison.Ordinal) && key != "APPLICATIONINSIGHTS_CONNECTION_STRING"), key =>
                AssertEntraPostgres(settings, key[..^"__ConnectionString".Length], "id-", applyMigrationsOnStart: null));
        }
    }

    /// <summary>
    /// The settings of one database (<paramref name="prefix"/><c>__Provider</c>, <c>__ConnectionString</c>, <c>__Credential</c>):
    /// PostgreSQL, TLS with the server's certificate checked, the identity's name as the user and no password (the Entra ID
    /// token is the password).
    /// </summary>
    void AssertEntraPostgres(Dictionary<string, string> settings, string prefix, string identityPrefix, string? applyMigrationsOnStart)
    {
        Assert.Equal("postgresql", settings[$"{prefix}__Provider"]);
        Assert.Equal("managed-identity", settings[$"{prefix}__Credential"]);
        var connection = new Npgsql.NpgsqlConnectionStringBuilder(AsDeployed(settings[$"{prefix}__ConnectionString"]));
        Assert.Equal(Npgsql.SslMode.VerifyFull, connection.SslMode);
        Assert.Null(connection.Password);
        Assert.False(string.IsNullOrEmpty(connection.Host));
        Assert.False(string.IsNullOrEmpty(connection.Database));
        Assert.Contains(identityPrefix, connection.Username, StringComparison.Ordinal);
        if (applyMigrationsOnStart is not null)
        {
            Assert.Equal(applyMigrationsOnStart, settings[$"{prefix}__ApplyMigrationsOnStart"]);
        }
    }

    [Fact]
    public void Outputs_Evaluated_CarryNoSecret()
    {
        var outputs = Snapshot.Outputs.EnumerateObject().ToList();

        Assert.Contains(outputs, output => output.Name == "PLAYER_URL");
        Assert.Contains(outputs, output => output.Name == "CONTROL_DATABASE_HOST");
        Assert.All(outputs, output => Assert.DoesNotMatch(SecretValue(), output.Value.GetRawText()));
    }

    static void AssertCorsOrigin(DeploymentSnapshot snapshot, string origin)
    {
        var blobServices = snapshot.Resources("Microsoft.Storage/storageAccounts/blobServices")
            .Where(service => ArmTemplate.Find(service, "properties.cors") is not null)
            .ToList();

        Assert.Equal(5, blobServices.Count);
        foreach (var service in blobServices)
        {
            var rule = Assert.Single(service.GetProperty("properties").GetProperty("cors").GetProperty("corsRules").EnumerateArray());
            Assert.Equal([origin], rule.GetProperty("allowedOrigins").EnumerateArray().Select(value => value.GetString()));
            Assert.Equal(["GET", "HEAD"], rule.GetProperty("allowedMethods").EnumerateArray().Select(value => value.GetString()));
        }

        // The function app's platform CORS (it answers the browsers' preflights) names the same one origin; no other app has any.
        foreach (var site in snapshot.Resources("Microsoft.Web/sites"))
        {
            var cors = ArmTemplate.Find(site, "properties.siteConfig.cors.allowedOrigins");
            if (ServiceName(site) == "functions")
            {
                Assert.Equal([origin], cors!.Value.EnumerateArray().Select(value => value.GetString()));
            }
            else
            {
                Assert.Null(cors);
            }
        }
    }

    /// <summary>Regional resources of a type by their <c>cloudstore-region</c> tag; a region appearing twice fails.</summary>
    Dictionary<string, JsonElement> RegionalResources(string type) =>
        Snapshot.Resources(type).Where(resource => RegionTag(resource) is not null).ToDictionary(resource => RegionTag(resource)!, StringComparer.Ordinal);

    /// <summary>
    /// A connection string as Azure will set it: the snapshot leaves the server's host name an expression (it exists once
    /// the server does), which is the server's name under postgres.database.azure.com.
    /// </summary>
    string AsDeployed(string value)
    {
        var expression = ConnectionStringExpression().Match(value);
        if (!expression.Success)
        {
            return value;
        }

        var server = expression.Groups["server"].Value;
        Assert.Contains(Snapshot.Resources("Microsoft.DBforPostgreSQL/flexibleServers"), resource => DeploymentSnapshot.ResourceId("Microsoft.DBforPostgreSQL/flexibleServers", ArmTemplate.NameOf(resource)) == server);
        return string.Format(System.Globalization.CultureInfo.InvariantCulture, expression.Groups["format"].Value,
            $"{server.Split('/')[^1]}.postgres.database.azure.com", expression.Groups["database"].Value, expression.Groups["user"].Value);
    }

    static string? RegionTag(JsonElement resource) => ArmTemplate.Find(resource, "tags.cloudstore-region")?.GetString();

    static string? ServiceName(JsonElement resource) => ArmTemplate.Find(resource, "tags.azd-service-name")?.GetString();

    /// <summary>Role assignments whose principal is the user-assigned identity whose name starts with <paramref name="identityPrefix"/>.</summary>
    List<JsonElement> AssignmentsOf(string identityPrefix) =>
    [
        .. Snapshot.Resources("Microsoft.Authorization/roleAssignments").Where(assignment =>
            DeploymentSnapshot.ReferencedResource(assignment.GetProperty("properties").GetProperty("principalId").GetString()!)
                .Split('/')[^1].StartsWith(identityPrefix, StringComparison.Ordinal)),
    ];

    JsonElement KeyServerRole() => Assert.Single(Snapshot.Resources("Microsoft.Authorization/roleDefinitions"));

    [GeneratedRegex(@"^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.(Storage/storageAccounts|KeyVault/vaults)/[^/]+\z")]
    private static partial Regex OneAccountOrVault();

    [GeneratedRegex(@"^\[format\('(?<format>[^']*)', reference\('(?<server>[^']+)', '[^']+'\)\.fullyQualifiedDomainName, '(?<database>[^']*)', '(?<user>[^']*)'\)\]\z")]
    private static partial Regex ConnectionStringExpression();

    [GeneratedRegex(@"AccountKey=|SharedAccessSignature|[?&]sig=|Password=|list(Keys|AccountSas|ServiceSas|Secrets)\(", RegexOptions.IgnoreCase)]
    private static partial Regex SecretValue();
}
