namespace CloudStore.Tests.Deployment;

/// <summary>
/// Built-in Azure role definition ids (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles),
/// the same in every tenant.
/// </summary>
public static class AzureRoles
{
    public const string StorageBlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
    public const string StorageBlobDelegator = "db58b8e5-c6ad-4a2a-8342-4190687cbf4a";
    public const string StorageBlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";

    public const string KeyVaultAdministrator = "00482a5a-887f-4fb3-b363-3b7fe8e74483";
    public const string KeyVaultCryptoOfficer = "14b46e9e-c2b7-41b4-b07b-48a6ebf60603";
    public const string KeyVaultCryptoUser = "12338af0-0e69-4776-bea7-57ae8d297424";
    public const string KeyVaultCryptoServiceEncryptionUser = "e147488a-f6f5-4113-8e2d-b22465e65bf6";

    /// <summary>Roles that can use Key Vault keys (unwrap among them).</summary>
    public static readonly IReadOnlyList<string> KeyVaultKeyUsers =
        [KeyVaultAdministrator, KeyVaultCryptoOfficer, KeyVaultCryptoUser, KeyVaultCryptoServiceEncryptionUser];

    /// <summary>What the key server may do with keys: read (the public half), create (first need, rotation), wrap, unwrap, delete (crypto-shredding; never purge).</summary>
    public static readonly IReadOnlyList<string> KeyServerDataActionsAllowed =
    [
        "Microsoft.KeyVault/vaults/keys/read",
        "Microsoft.KeyVault/vaults/keys/create/action",
        "Microsoft.KeyVault/vaults/keys/wrap/action",
        "Microsoft.KeyVault/vaults/keys/unwrap/action",
        "Microsoft.KeyVault/vaults/keys/delete",
    ];
}
