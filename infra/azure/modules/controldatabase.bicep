// The control plane's PostgreSQL server, in the control plane's location: the directory (organisations, users,
// devices, cameras, sessions, audit, the functions' data-protection keys) and the player's database (sessions and the
// data-protection keys that seal its cookies), each shared by every instance of its app. Built as the regional index
// servers are (modules/regional.bicep): Entra ID authentication only, TLS 1.2 or newer required, Azure's own addresses
// only.

@description('Azure location (the control-plane location).')
param location string

@description('Suffix that makes names unique per subscription and environment.')
@minLength(8)
param resourceToken string

@description('Tags for every resource.')
param tags object

@description('Principal (object) id of the control plane\'s managed identity.')
param functionsPrincipalId string

@description('Name of the control plane\'s managed identity: its user name in the directory database.')
param functionsIdentityName string

@description('Principal (object) id of the player\'s managed identity.')
param playerPrincipalId string

@description('Name of the player\'s managed identity: its user name in the player\'s database.')
param playerIdentityName string

@description('Compute size of the server.')
param sku object

var directoryDatabaseName = 'cloudstore_directory'
var playerDatabaseName = 'cloudstore_player'

resource server 'Microsoft.DBforPostgreSQL/flexibleServers@2025-08-01' = {
  name: 'psql-control-${resourceToken}'
  location: location
  tags: tags
  sku: sku
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

// Server parameters and administrators are applied one after the other (the service refuses concurrent
// configuration updates of one server).
resource requireTls 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2025-08-01' = {
  parent: server
  name: 'require_secure_transport'
  properties: {
    value: 'ON'
    source: 'user-override'
  }
}

resource minimumTls 'Microsoft.DBforPostgreSQL/flexibleServers/configurations@2025-08-01' = {
  parent: server
  name: 'ssl_min_protocol_version'
  properties: {
    value: 'TLSv1.2'
    source: 'user-override'
  }
  dependsOn: [
    requireTls
  ]
}

// As on the index servers: the apps run in Azure without fixed outbound addresses, so only Azure's own addresses may
// connect, and each connection still needs an Entra ID token and TLS.
resource allowAzureServices 'Microsoft.DBforPostgreSQL/flexibleServers/firewallRules@2025-08-01' = {
  parent: server
  name: 'AllowAllAzureServicesAndResourcesWithinAzureIps'
  properties: {
    startIpAddress: '0.0.0.0'
    endIpAddress: '0.0.0.0'
  }
  dependsOn: [
    minimumTls
  ]
}

// Each app creates and migrates its own database's schema at start (it owns what it creates), so each identity is an
// Entra administrator: the only kind of Entra principal the Azure API can create on the server (a narrower one takes
// SQL inside the server). Neither app is given the other's tables (docs/SECURITY.md, Databases in Azure).
resource functionsAdministrator 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2025-08-01' = {
  parent: server
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

resource playerAdministrator 'Microsoft.DBforPostgreSQL/flexibleServers/administrators@2025-08-01' = {
  parent: server
  name: playerPrincipalId
  properties: {
    principalType: 'ServicePrincipal'
    principalName: playerIdentityName
    tenantId: tenant().tenantId
  }
  dependsOn: [
    functionsAdministrator
  ]
}

resource directoryDatabase 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2025-08-01' = {
  parent: server
  name: directoryDatabaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
  dependsOn: [
    playerAdministrator
  ]
}

resource playerDatabase 'Microsoft.DBforPostgreSQL/flexibleServers/databases@2025-08-01' = {
  parent: server
  name: playerDatabaseName
  properties: {
    charset: 'UTF8'
    collation: 'en_US.utf8'
  }
  dependsOn: [
    directoryDatabase
  ]
}

output host string = server.properties.fullyQualifiedDomainName
output directoryDatabaseName string = directoryDatabase.name
output playerDatabaseName string = playerDatabase.name
