extern alias keyserver;
using CloudStore.Contracts;
using keyserver::CloudStore.KeyServer.KeyStores;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Xunit;

namespace CloudStore.Tests.KeyStores;

/// <summary><c>services.AddKeyStore()</c>: the store the configuration chooses, and a refusal to start with a broken one.</summary>
public sealed class KeyStoreServicesTests
{
    [Fact]
    public async Task AddKeyStore_NothingConfigured_LocalKeyStore()
    {
        using var host = Build([]);

        await host.StartAsync();

        Assert.IsType<LocalKeyStore>(host.Services.GetRequiredService<IKeyStore>());
        Assert.Equal(".local/keyserver/keys", host.Services.GetRequiredService<IOptions<KeyStoreOptions>>().Value.KeyStoreRoot);
        await host.StopAsync();
    }

    [Fact]
    public async Task AddKeyStore_AzureKeyVaultWithAnHttpsVaultPerRegion_AzureKeyVaultKeyStore()
    {
        using var host = Build(KeyVaultConfiguration());

        await host.StartAsync();

        Assert.IsType<AzureKeyVaultKeyStore>(host.Services.GetRequiredService<IKeyStore>());
        await host.StopAsync();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("http://cs-uk-london.vault.azure.net/")]
    [InlineData("https://cs-uk-london.vault.azure.net/keys/")]
    [InlineData("https://cs-uk-london.vault.azure.net/?x=1")]
    [InlineData("https://user:secret@cs-uk-london.vault.azure.net/")]
    [InlineData("cs-uk-london")]
    public async Task AddKeyStore_LondonVaultMissingOrNotAnHttpsBaseUri_HostRefusesToStart(string? london)
    {
        var configuration = KeyVaultConfiguration();
        configuration["KeyServer:KeyVaults:uk-london"] = london;
        if (london is null)
        {
            configuration.Remove("KeyServer:KeyVaults:uk-london");
        }

        using var host = Build(configuration);

        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("KeyServer:KeyVaults:uk-london", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddKeyStore_VaultForARegionNotInTheCatalogue_HostRefusesToStart()
    {
        var configuration = KeyVaultConfiguration();
        configuration["KeyServer:KeyVaults:mars-olympus"] = "https://cs-mars.vault.azure.net/";
        using var host = Build(configuration);

        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("mars-olympus", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddKeyStore_UnknownCredential_HostRefusesToStart()
    {
        var configuration = KeyVaultConfiguration();
        configuration["KeyServer:KeyVaultCredential"] = "client-secret";
        using var host = Build(configuration);

        var refused = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(nameof(KeyStoreOptions.KeyVaultCredential), refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddKeyStore_UnknownStoreKind_HostRefusesToStart()
    {
        using var host = Build(new Dictionary<string, string?> { ["KeyServer:KeyStore"] = "Vault" });

        await Assert.ThrowsAnyAsync<InvalidOperationException>(() => host.StartAsync());
    }

    static Dictionary<string, string?> KeyVaultConfiguration()
    {
        var configuration = new Dictionary<string, string?> { ["KeyServer:KeyStore"] = "AzureKeyVault" };
        foreach (var region in Regions.All)
        {
            configuration[$"KeyServer:KeyVaults:{region}"] = $"https://cs-{region}.vault.azure.net/";
        }

        return configuration;
    }

    static IHost Build(Dictionary<string, string?> configuration)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Services.AddKeyStore();
        return builder.Build();
    }
}
