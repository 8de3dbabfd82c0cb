using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using CloudStore.Contracts;
using CloudStore.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace CloudStore.KeyServer.KeyStores;

/// <summary>How the key server reaches Key Vault: its identity and Azure.Core's pipeline options (retries, transport).</summary>
public sealed record KeyVaultConnection(TokenCredential Credential, AzureKeyVaultClientOptions ClientOptions);

/// <summary>The key store the configuration chooses (<see cref="KeyStoreOptions"/>), as the key server's <see cref="IKeyStore"/>.</summary>
public static class KeyStoreServices
{
    /// <summary>
    /// Registers <see cref="IKeyStore"/>: <see cref="LocalKeyStore"/> unless <c>KeyServer:KeyStore</c> is
    /// <c>AzureKeyVault</c>. The options are validated when the host starts, so a missing or non-https vault
    /// stops the key server before it serves anything. A <see cref="KeyVaultConnection"/> registered before this
    /// call replaces the default one (managed identity, outbound TLS as <c>Tls:CaCertificateFile</c> says).
    /// </summary>
    public static IServiceCollection AddKeyStore(this IServiceCollection services)
    {
        services.AddOptions<KeyStoreOptions>().BindConfiguration(KeyServerOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(provider => DefaultConnection(
            provider.GetRequiredService<IOptions<KeyStoreOptions>>().Value,
            provider.GetRequiredService<IConfiguration>()[$"{TlsOptions.Section}:{nameof(TlsOptions.CaCertificateFile)}"]));
        services.AddSingleton<IKeyStore>(provider =>
        {
            var options = provider.GetRequiredService<IOptions<KeyStoreOptions>>().Value;
            return options.KeyStore switch
            {
                KeyStoreKind.AzureKeyVault => CreateAzureKeyVaultStore(provider, options),
                _ => new LocalKeyStore(options.KeyStoreRoot, provider.GetRequiredService<TimeProvider>()),
            };
        });
        return services;
    }

    static AzureKeyVaultKeyStore CreateAzureKeyVaultStore(IServiceProvider provider, KeyStoreOptions options)
    {
        var connection = provider.GetRequiredService<KeyVaultConnection>();
        return new AzureKeyVaultKeyStore(options.VaultUris(), connection.Credential, connection.ClientOptions,
            provider.GetRequiredService<ILogger<AzureKeyVaultKeyStore>>());
    }

    static KeyVaultConnection DefaultConnection(KeyStoreOptions options, string? caCertificateFile)
    {
        TokenCredential credential = options.KeyVaultCredential switch
        {
            KeyStoreOptions.DefaultCredential => new DefaultAzureCredential(),
            _ when string.IsNullOrEmpty(options.ManagedIdentityClientId) => new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned),
            _ => new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(options.ManagedIdentityClientId)),
        };
        var clientOptions = new AzureKeyVaultClientOptions { Transport = new HttpClientTransport(TrustedHttp.CreateHandler(caCertificateFile)) };
        return new KeyVaultConnection(credential, clientOptions);
    }
}
