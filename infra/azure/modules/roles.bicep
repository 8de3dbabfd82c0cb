targetScope = 'subscription'

// The key server's custom role on the regional vaults. The built-in "Key Vault Crypto User" cannot
// create keys (the key server makes each organisation's key pair on first need and rotates it by
// creating a new version), and "Key Vault Crypto Officer" can also delete, purge, import, back up and
// restore. This role holds exactly what the key server does: read a key (its public half), create a
// key or a new version, unwrap a data key, and delete an organisation's key when the organisation is
// deleted (crypto-shredding; the vault keeps it soft-deleted and unusable, and purge protection means
// nobody can purge it early). No wrap (cameras wrap with the public key themselves), no sign, no
// decrypt, no purge, no recover, no secrets, no management-plane action.

@description('The resource group the role may be assigned in; each assignment is then scoped to one vault.')
param resourceGroupId string

@description('Names the role uniquely in the tenant (role names are tenant-wide).')
param environmentName string

resource keyServerKeys 'Microsoft.Authorization/roleDefinitions@2022-04-01' = {
  name: guid(resourceGroupId, 'cloudstore-keyserver-organisation-keys')
  properties: {
    roleName: 'CloudStore key server - organisation keys (${environmentName}, ${last(split(resourceGroupId, '/'))})'
    description: 'Read, create, unwrap with and delete the organisations\' key-encryption keys in a CloudStore regional key vault.'
    type: 'CustomRole'
    assignableScopes: [
      resourceGroupId
    ]
    permissions: [
      {
        actions: []
        notActions: []
        dataActions: [
          'Microsoft.KeyVault/vaults/keys/read'
          'Microsoft.KeyVault/vaults/keys/create/action'
          'Microsoft.KeyVault/vaults/keys/unwrap/action'
          'Microsoft.KeyVault/vaults/keys/delete'
        ]
        notDataActions: []
      }
    ]
  }
}

output keyServerKeysRoleDefinitionId string = keyServerKeys.id
