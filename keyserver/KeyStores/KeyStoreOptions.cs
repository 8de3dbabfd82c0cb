using System.ComponentModel.DataAnnotations;
using CloudStore.Contracts;

namespace CloudStore.KeyServer.KeyStores;

/// <summary>Where the key server keeps the organisations' private keys.</summary>
public enum KeyStoreKind
{
    /// <summary>The embedded store (<see cref="LocalKeyStore"/>): files encrypted under a master key per region. The default.</summary>
    Local,

    /// <summary>Azure Key Vault (<see cref="AzureKeyVaultKeyStore"/>): one vault per region, HSM keys that never leave it.</summary>
    AzureKeyVault,
}

/// <summary>
/// The key store part of the <c>KeyServer</c> configuration section: <c>KeyServer:KeyStore</c> chooses the
/// store, and each store reads its own keys. Validated when the key server starts.
/// </summary>
public sealed class KeyStoreOptions : IValidatableObject
{
    /// <summary>The credential a key server in Azure uses: its managed identity.</summary>
    public const string ManagedIdentityCredential = "managed-identity";

    /// <summary>Azure.Identity's DefaultAzureCredential: for a run against a real vault from a developer's machine.</summary>
    public const string DefaultCredential = "default";

    /// <summary><c>Local</c> (default) or <c>AzureKeyVault</c>.</summary>
    public KeyStoreKind KeyStore { get; set; } = KeyStoreKind.Local;

    /// <summary>Local store: one subfolder per region, each with its own master key.</summary>
    [Required]
    public string KeyStoreRoot { get; set; } = ".local/keyserver/keys";

    /// <summary>
    /// Key Vault store: the vault of each region, by region id (<c>KeyServer:KeyVaults:eu-frankfurt</c> =
    /// <c>https://….vault.azure.net/</c>). Every region of the catalogue needs one; keys never cross regions.
    /// </summary>
    public Dictionary<string, string> KeyVaults { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Key Vault store: <c>managed-identity</c> (default) or <c>default</c>.</summary>
    [AllowedValues(ManagedIdentityCredential, DefaultCredential)]
    public string KeyVaultCredential { get; set; } = ManagedIdentityCredential;

    /// <summary>Key Vault store: the client id of a user-assigned managed identity; unset for the system-assigned one.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>The vault of each region, once validated.</summary>
    public IReadOnlyDictionary<string, Uri> VaultUris() =>
        KeyVaults.ToDictionary(pair => pair.Key, pair => new Uri(pair.Value, UriKind.Absolute), StringComparer.Ordinal);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!Enum.IsDefined(KeyStore))
        {
            yield return new ValidationResult($"KeyServer:KeyStore must be {KeyStoreKind.Local} or {KeyStoreKind.AzureKeyVault}.", [nameof(KeyStore)]);
        }

        if (KeyStore != KeyStoreKind.AzureKeyVault)
        {
            yield break;
        }

        foreach (var region in Regions.All.Where(region => !KeyVaults.ContainsKey(region)))
        {
            yield return new ValidationResult($"KeyServer:KeyVaults:{region} is missing: every region needs its own vault.", [nameof(KeyVaults)]);
        }

        foreach (var (region, value) in KeyVaults)
        {
            if (!Regions.All.Contains(region))
            {
                yield return new ValidationResult($"KeyServer:KeyVaults:{region} names no region of the catalogue.", [nameof(KeyVaults)]);
            }
            else if (!IsVaultUri(value))
            {
                yield return new ValidationResult(
                    $"KeyServer:KeyVaults:{region} must be a vault's https base URI (https://NAME.vault.azure.net/), without path, query or credentials.",
                    [nameof(KeyVaults)]);
            }
        }
    }

    static bool IsVaultUri(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri)
        && uri.Scheme == Uri.UriSchemeHttps
        && string.IsNullOrEmpty(uri.UserInfo)
        && uri.AbsolutePath == "/"
        && string.IsNullOrEmpty(uri.Query)
        && string.IsNullOrEmpty(uri.Fragment);
}
