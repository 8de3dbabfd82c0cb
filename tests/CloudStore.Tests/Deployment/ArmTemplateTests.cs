using System.Text.RegularExpressions;
using CloudStore.Contracts;
using Xunit;

namespace CloudStore.Tests.Deployment;

/// <summary>
/// The security properties of the compiled main.bicep, in every template nested in it (each module).
/// The templates set them as literals, so these tests read them as written, not as they might evaluate.
/// </summary>
[Collection(UsesCompiledInfrastructure.Name)]
public sealed partial class ArmTemplateTests(CompiledInfrastructure infrastructure)
{
    ArmTemplate Main => infrastructure.Template;

    [Fact]
    public void StorageAccounts_EveryDeclaration_Tls12HttpsOnlyNoPublicBlobsNoSharedKey()
    {
        var accounts = Main.Resources("Microsoft.Storage/storageAccounts");

        Assert.Equal(2, accounts.Count); // the regional account (in a loop) and the functions' host account
        foreach (var (template, account) in accounts)
        {
            var where = $"{template.Path}: {ArmTemplate.NameOf(account)}";
            Assert.True(ArmTemplate.Literal(account, "properties.minimumTlsVersion").GetString() == "TLS1_2", where);
            Assert.True(ArmTemplate.Literal(account, "properties.supportsHttpsTrafficOnly").GetBoolean(), where);
            Assert.False(ArmTemplate.Literal(account, "properties.allowBlobPublicAccess").GetBoolean(), where);
            Assert.False(ArmTemplate.Literal(account, "properties.allowSharedKeyAccess").GetBoolean(), where);
        }
    }

    [Fact]
    public void BlobCors_EveryRule_OnlyThePlayerOriginMayGetOrHead()
    {
        var rules = Main.Resources("Microsoft.Storage/storageAccounts/blobServices")
            .Select(declaration => ArmTemplate.Find(declaration.Resource, "properties.cors.corsRules"))
            .Where(rules => rules is not null)
            .SelectMany(rules => rules!.Value.EnumerateArray())
            .ToList();

        var rule = Assert.Single(rules);
        var origin = Assert.Single(rule.GetProperty("allowedOrigins").EnumerateArray()).GetString();
        Assert.Equal("[parameters('playerOrigin')]", origin);
        Assert.Equal(["GET", "HEAD"], rule.GetProperty("allowedMethods").EnumerateArray().Select(method => method.GetString()));
        Assert.DoesNotContain("*", rule.GetRawText(), StringComparison.Ordinal);
    }

    [Fact]
    public void WebApps_EveryDeclaration_HttpsOnlyTls12NoFtpNoBasicPublishing()
    {
        var sites = Main.Resources("Microsoft.Web/sites");

        Assert.Equal(3, sites.Count); // the function app, and the App Service module once for the key server, once for the player
        foreach (var (template, site) in sites)
        {
            var where = $"{template.Path}: {ArmTemplate.NameOf(site)}";
            Assert.True(ArmTemplate.Literal(site, "properties.httpsOnly").GetBoolean(), where);
            Assert.True(ArmTemplate.Literal(site, "properties.siteConfig.minTlsVersion").GetString() == "1.2", where);
            Assert.True(ArmTemplate.Literal(site, "properties.siteConfig.scmMinTlsVersion").GetString() == "1.2", where);
            Assert.True(ArmTemplate.Literal(site, "properties.siteConfig.ftpsState").GetString() == "Disabled", where);
            Assert.True(ArmTemplate.Literal(site, "identity.type").GetString() == "UserAssigned", where);

            var policies = template.OwnResources()
                .Where(resource => ArmTemplate.TypeOf(resource) == "Microsoft.Web/sites/basicPublishingCredentialsPolicies")
                .ToList();
            Assert.Equal(2, policies.Count); // ftp and scm
            Assert.All(policies, policy => Assert.False(ArmTemplate.Literal(policy, "properties.allow").GetBoolean()));
        }
    }

    [Fact]
    public void WebApps_Runtimes_DotNet10OnLinuxAndFlexConsumption()
    {
        var sites = Main.Resources("Microsoft.Web/sites").Select(declaration => declaration.Resource).ToList();

        var appService = sites.Where(site => ArmTemplate.Literal(site, "kind").GetString() == "app,linux").ToList();
        Assert.Equal(2, appService.Count);
        Assert.All(appService, site => Assert.Equal("DOTNETCORE|10.0", ArmTemplate.Literal(site, "properties.siteConfig.linuxFxVersion").GetString()));

        var functions = Assert.Single(sites, site => ArmTemplate.Find(site, "properties.functionAppConfig") is not null);
        Assert.Equal("dotnet-isolated", ArmTemplate.Literal(functions, "properties.functionAppConfig.runtime.name").GetString());
        Assert.Equal("10.0", ArmTemplate.Literal(functions, "properties.functionAppConfig.runtime.version").GetString());
        Assert.Equal("UserAssignedIdentity", ArmTemplate.Literal(functions, "properties.functionAppConfig.deployment.storage.authentication.type").GetString());
        Assert.Equal("functionapp,linux", ArmTemplate.Literal(functions, "kind").GetString());

        var plans = Main.Resources("Microsoft.Web/serverfarms").Select(declaration => declaration.Resource);
        Assert.Contains(plans, plan => ArmTemplate.Find(plan, "sku.tier")?.GetString() == "FlexConsumption");
    }

    [Fact]
    public void KeyVaults_EveryDeclaration_PremiumRbacSoftDeletePurgeProtected()
    {
        var (template, vault) = Assert.Single(Main.Resources("Microsoft.KeyVault/vaults"));

        Assert.Contains("regional-", template.Path, StringComparison.Ordinal);
        Assert.Equal("premium", ArmTemplate.Literal(vault, "properties.sku.name").GetString());
        Assert.True(ArmTemplate.Literal(vault, "properties.enableRbacAuthorization").GetBoolean());
        Assert.True(ArmTemplate.Literal(vault, "properties.enablePurgeProtection").GetBoolean());
        Assert.True(ArmTemplate.Literal(vault, "properties.enableSoftDelete").GetBoolean());
        Assert.InRange(ArmTemplate.Literal(vault, "properties.softDeleteRetentionInDays").GetInt32(), 7, 90);
        Assert.Null(ArmTemplate.Find(vault, "properties.accessPolicies"));
    }

    [Fact]
    public void PostgresServers_EveryDeclaration_EntraOnlyTlsRequiredNoInternetFirewallRule()
    {
        // The regional index servers (one declaration in a loop) and the control plane's server (directory, player).
        var servers = Main.Resources("Microsoft.DBforPostgreSQL/flexibleServers");
        Assert.Equal(2, servers.Count);
        Assert.Contains(servers, server => server.Template.Path == "main/controldatabase");
        foreach (var (template, server) in servers)
        {
            Assert.Equal("Enabled", ArmTemplate.Literal(server, "properties.authConfig.activeDirectoryAuth").GetString());
            Assert.Equal("Disabled", ArmTemplate.Literal(server, "properties.authConfig.passwordAuth").GetString());
            Assert.Null(ArmTemplate.Find(server, "properties.administratorLogin"));
            Assert.Null(ArmTemplate.Find(server, "properties.administratorLoginPassword"));

            var settings = template.OwnResources()
                .Where(resource => ArmTemplate.TypeOf(resource) == "Microsoft.DBforPostgreSQL/flexibleServers/configurations")
                .ToList();
            string? Setting(string name) => ArmTemplate.Literal(
                Assert.Single(settings, setting => ArmTemplate.NameOf(setting).Contains($"'{name}'", StringComparison.Ordinal)),
                "properties.value").GetString();
            Assert.Equal("ON", Setting("require_secure_transport"));
            Assert.Equal("TLSv1.2", Setting("ssl_min_protocol_version"));

            // Only Azure's own addresses (the documented 0.0.0.0 rule); never a range reaching the internet.
            var rules = template.OwnResources()
                .Where(resource => ArmTemplate.TypeOf(resource) == "Microsoft.DBforPostgreSQL/flexibleServers/firewallRules")
                .ToList();
            Assert.Single(rules);
            Assert.All(rules, rule =>
            {
                Assert.Equal("0.0.0.0", ArmTemplate.Literal(rule, "properties.startIpAddress").GetString());
                Assert.Equal("0.0.0.0", ArmTemplate.Literal(rule, "properties.endIpAddress").GetString());
            });

            // Entra administrators are the apps' managed identities (service principals), never a person or a group.
            var administrators = template.OwnResources()
                .Where(resource => ArmTemplate.TypeOf(resource) == "Microsoft.DBforPostgreSQL/flexibleServers/administrators")
                .ToList();
            Assert.NotEmpty(administrators);
            Assert.All(administrators, administrator => Assert.Equal("ServicePrincipal", ArmTemplate.Literal(administrator, "properties.principalType").GetString()));
        }
    }

    [Fact]
    public void RoleAssignments_EveryDeclaration_ScopedToOneStorageAccountOrVault()
    {
        var assignments = Main.Resources("Microsoft.Authorization/roleAssignments");

        Assert.Equal(4, assignments.Count); // regional: blob data, delegator, key server keys; functions: host storage
        foreach (var (template, assignment) in assignments)
        {
            var scope = ArmTemplate.Find(assignment, "scope")?.GetString();
            Assert.True(scope is not null && SingleResourceScope().IsMatch(scope), $"{template.Path}: {ArmTemplate.NameOf(assignment)} has scope '{scope}'");
        }
    }

    [Fact]
    public void Main_RegionLocations_DefaultsToTheFiveCatalogueRegionsInALoop()
    {
        var locations = Main.Root.GetProperty("parameters").GetProperty("regionLocations").GetProperty("defaultValue")
            .EnumerateObject().ToDictionary(property => property.Name, property => property.Value.GetString());

        Assert.Equal(
            new Dictionary<string, string?>
            {
                [Regions.AustraliaSydney] = "australiaeast",
                [Regions.CanadaToronto] = "canadacentral",
                [Regions.EuFrankfurt] = "germanywestcentral",
                [Regions.UkLondon] = "uksouth",
                [Regions.UsVirginia] = "eastus",
            },
            locations);
        Assert.Equal(Regions.All.Order(StringComparer.Ordinal), locations.Keys.Order(StringComparer.Ordinal));

        var regional = Assert.Single(Main.OwnResources(), resource =>
            ArmTemplate.TypeOf(resource) == ArmTemplate.DeploymentType && ArmTemplate.NameOf(resource).Contains("regional-", StringComparison.Ordinal));
        Assert.Equal("[length(items(parameters('regionLocations')))]", regional.GetProperty("copy").GetProperty("count").GetString());
    }

    [Fact]
    public void Outputs_EveryTemplate_NameAndValueCarryNoSecret()
    {
        var outputs = Main.AllTemplates().SelectMany(template => template.Outputs().Select(output => (template.Path, output))).ToList();

        Assert.NotEmpty(outputs);
        foreach (var (path, output) in outputs)
        {
            Assert.False(SecretName().IsMatch(output.Name), $"{path}: output '{output.Name}' is named like a secret");
            Assert.False(SecretValue().IsMatch(output.Value.GetRawText()), $"{path}: output '{output.Name}' = {output.Value}");
        }
    }

    [Fact]
    public void Templates_Everywhere_NoSecureParameterNoKeyListing()
    {
        var text = Main.Root.GetRawText();

        Assert.DoesNotMatch(SecretValue(), text);
        foreach (var template in Main.AllTemplates())
        {
            Assert.All(template.Parameters(), parameter =>
                Assert.DoesNotContain("secure", parameter.Value.GetProperty("type").GetString()!, StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public void ApiVersions_EveryResource_NotPreview()
    {
        var versions = Main.AllTemplates().SelectMany(template => template.OwnResources())
            .Select(resource => $"{ArmTemplate.TypeOf(resource)}@{resource.GetProperty("apiVersion").GetString()}")
            .Distinct()
            .ToList();

        Assert.All(versions, version => Assert.DoesNotContain("preview", version, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary><c>[resourceId('Microsoft.Storage/storageAccounts', name)]</c> or the same for a vault: one resource, no child.</summary>
    [GeneratedRegex(@"^\[resourceId\('Microsoft\.(Storage/storageAccounts|KeyVault/vaults)', ")]
    private static partial Regex SingleResourceScope();

    [GeneratedRegex(@"password|secret|sas|token|connectionstring|credential|(^|_)key(\z|_)|[a-z]key\z|accountkey|apikey|instrumentationkey", RegexOptions.IgnoreCase)]
    private static partial Regex SecretName();

    [GeneratedRegex(@"list(Keys|AccountSas|ServiceSas|Secrets|Credentials?|ConnectionStrings)\(|AccountKey=|SharedAccessSignature|[?&]sig=|Password=", RegexOptions.IgnoreCase)]
    private static partial Regex SecretValue();
}
