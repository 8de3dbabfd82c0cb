// One region's data plane: the storage account that holds the cameras' encrypted recordings, the key
// vault that holds the organisations' key-encryption keys, and the PostgreSQL server that holds the
// region's recording index. Everything here is deployed in the region's own Azure location, so media,
// index rows, wrapped keys and key-encryption keys of an organisation stay in its home region.
//
// Each role assignment is scoped to the one account or vault it is for, never to the resource group.

@description('CloudStore region id from the region catalogue (lib/CloudStore.Contracts/Regions.cs), e.g. eu-frankfurt.')
@minLength(2)
param regionId string

@description('Azure location of this region, e.g. germanywestcentral.')
param location string

@description('Suffix that makes names unique per subscription and environment.')
@minLength(8)
param resourceToken string

@description('Tags for every resource.')
param tags object

@description('The web player\'s origin (https://host): the only origin whose pages may read recordings (CORS).')
param playerOrigin string

@description('Principal (object) id of the control plane\'s managed identity.')
param functionsPrincipalId string

@description('Name of the control plane\'s managed identity: its user name in the index database.')
param functionsIdentityName string

@description('Principal (object) id of the key server\'s managed identity.')
param keyServerPrincipalId string

@description('Resource id of the key server\'s custom role (modules/roles.bicep).')
param keyServerRoleDefinitionId string

@description('Compute size of the index database.')
param indexDatabaseSku object

// Built-in role definitions (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/storage).
// Storage Blob Data Contributor: read, write and delete containers and blobs (create cameras' containers,
// check uploaded sizes, read wrapped keys at index time, delete expired segments). It can also fetch a
// user delegation key; the Delegator assignment names that need on its own, so a later narrowing of
// the data role (e.g. to containers) does not silently break upload grants.
var storageBlobDataContributor = 'ba92f5b4-2d11-453d-a403-e96b0029c9fe'
var storageBlobDelegator = 'db58b8e5-c6ad-4a2a-8342-4190687cbf4a'

var compactRegion = replace(regionId, '-', '')
var indexDatabaseName = 'cloudstore_index'

resource storage 'Microsoft.Storage/storageAccounts@2026-06-01' = {
  name: take('st${compactRegion}${resourceToken}', 24)
  location: location
  tags: union(tags, { 'cloudstore-region': regionId })
  kind: 'StorageV2'
  sku: {
    // Zone-redundant inside the region: recordings are not copied to another region.
    name: 'Standard_ZRS'
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    // No account keys: grants are user-delegation SAS signed through the control plane's identity.
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    accessTier: 'Hot'
    // Cameras upload and browsers read over the internet, with SAS URLs only.
    publicNetworkAccess: 'Enabled'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2026-06-01' = {
  parent: storage
  name: 'default'
  properties: {
    cors: {
      corsRules: [
        {
          // The player's pages fetch segments with range requests; nothing else may read from a browser.
          allowedOrigins: [
            playerOrigin
          ]
          allowedMethods: [
            'GET'
            'HEAD'
          ]
          allowedHeaders: [
            'range'
          ]
          exposedHeaders: [
            'content-length'
            'content-range'
          ]
          maxAgeInSeconds: 3600
        }
      ]
    }
  }
}

resource vault 'Microsoft.KeyVault/vaults@2026-05-15' = {
  name: take('kv-${compactRegion}-${resourceToken}', 24)
  location: location
  tags: union(tags, { 'cloudstore-region': regionId })
  properties: {
    tenantId: tenant().tenantId
    sku: {
      family: 'A'
      // Premium: the organisations' RSA keys can be HSM-protected (RSA-HSM).
      name: 'premium'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    enabledForDeployment: false
    enabledForDiskEncryption: false
    enabledForTemplateDeployment: false
    publicNetworkAccess: 'Enabled'
  }
}

resource indexServer 'Microsoft.DBforPostgreSQL/flexibleServers@2025-08-01' = {
  name: 'psql-${regionId}-${resourceToken}'
  location: location
  tags: union(tags, { 'cloudstore-region': regionId })
  sku: indexDatabaseSku
  properties: {
    version: '17'
    // Entra ID only: no administrator password exists.
    authConfig: {
      activeDirectoryAuth: 'Enabled'
      passwordAuth: 'Disabled'
      tenantId: tenant().tenantId
    }
    storage: {
      storageSizeGB: 32
      autoGrow: 'Enabled'
    }
    backup: {
      backupRetentionDays: 7
      // Geo-redundant backups would copy the index to another region.
      geoRedundantBackup: 'Disabled'
    }
    highAvailability: {
      mode: 'Disabled'
    }
    network: {
      publicNetworkAccess: 'Enabled'
    }
  }
}

// Connections must use TLS 1.2 or newer. Server parameters are applied one after the other (the
// service refuses concurrent configuration updates of one server).
resource requireTls 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2025-08-01' = {
  parent: indexServer
  name: 'require_secure_transport'
  properties: {
    value: 'ON'
    source: 'user-override'
  }
}

resource minimumTls 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2025-08-01' = {
  parent: indexServer
  name: 'ssl_min_protocol_version'
  properties: {
    value: 'TLSv1.2'
    source: 'user-override'
  }
  dependsOn: [
    requireTls
  ]
}

// The control plane runs in Azure (Flex Consumption has no fixed outbound addresses): only Azure's own
// addresses may connect (the documented 0.0.0.0 start/end rule), and each connection still needs an
// Entra ID token and TLS. No rule opens the server to the internet.
resource allowAzureServices 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2025-08-01' = {
  parent: indexServer
  name: 'AllowAllAzureServicesAndResourcesWithinAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
  dependsOn: [
    minimumTls
  ]
}

// The control plane creates and migrates the index schema, so its identity administers the server.
resource indexAdministrator 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2025-08-01' = {
  parent: indexServer
  name: functionsPrincipalId
  properties: {
    principalType: 'ServicePrincipal'
    principalName: functionsIdentityName
    tenantId: tenant().tenantId
  }
  dependsOn: [
    allowAzureServices
  ]
}

resource indexDatabase 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2025-08-01' = {
  parent: indexServer
  name: indexDatabaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
  dependsOn: [
    indexAdministrator
  ]
}

// Control plane: upload and read grants (user-delegation SAS), size checks, retention deletes.
resource functionsBlobData 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionsPrincipalId, storageBlobDataContributor)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataContributor)
    principalId: functionsPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource functionsBlobDelegator 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(storage.id, functionsPrincipalId, storageBlobDelegator)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDelegator)
    principalId: functionsPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// Key server: the organisations' keys in this region's vault, and nothing else.
resource keyServerKeys 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, keyServerPrincipalId, keyServerRoleDefinitionId)
  scope: vault
  properties: {
    roleDefinitionId: keyServerRoleDefinitionId
    principalId: keyServerPrincipalId
    principalType: 'ServicePrincipal'
  }
}

output regionId string = regionId
output blobEndpoint string = storage.properties.primaryEndpoints.blob
output vaultUri string = vault.properties.vaultUri
output indexHost string = indexServer.properties.fullyQualifiedDomainName
output indexDatabaseName string = indexDatabase.name
