// CloudStore on Azure: regional data planes (storage, key vault, index database) in each of the five
// regions, and the control plane (functions), key server and web player in one location.
//
// targetScope is the subscription so that `azd up` creates the resource group itself (rg-{environment},
// tagged for azd) and `azd down` removes everything with it; every resource is deployed into that one
// group through modules. The regional resources still live in their own Azure regions: a resource group
// holds only their management metadata, not recordings, keys or index rows.
targetScope = 'subscription'

@description('azd environment name; names the resource group and seeds every resource name.')
@minLength(1)
@maxLength(64)
param environmentName string

@description('Azure location of the resource group and of the control plane, key server, player and monitoring.')
param location string

@description('CloudStore region id (lib/CloudStore.Contracts/Regions.cs) to Azure location. One storage account, key vault and index database is created per entry.')
param regionLocations object = {
  'au-sydney': 'australiaeast'
  'ca-toronto': 'canadacentral'
  'eu-frankfurt': 'germanywestcentral'
  'uk-london': 'uksouth'
  'us-virginia': 'eastus'
}

@description('The web player\'s public origin (https://host, no path), e.g. with a custom domain. Empty: the player app\'s default host name.')
param playerOrigin string = ''

@description('SMTP relay for invitation and password-reset mail, e.g. smtp.azurecomm.net (Azure Communication Services). Required: the functions refuse to start without it.')
param smtpHost string = ''

@description('SMTP port of the relay.')
param smtpPort int = 587

@description('How the relay connection is protected: StartTls (587) or SslOnConnect (465).')
@allowed([
  'StartTls'
  'SslOnConnect'
])
param mailSecurity string = 'StartTls'

@description('Sender address of invitation and password-reset mail. Required: the functions refuse to start without it.')
param mailFromAddress string = ''

@description('SMTP user name, when the relay wants one (empty: none).')
param smtpUserName string = ''

@description('Key Vault secret URI (https://VAULT.vault.azure.net/secrets/NAME) of the SMTP password, used with smtpUserName; grant the functions identity Key Vault Secrets User on it.')
param smtpPasswordSecretUri string = ''

@description('App Service plan size of the key server and of the player (one plan each).')
param webPlanSku string = 'P0v3'

@description('Compute size of the control plane\'s database server (PostgreSQL Flexible Server: the directory and the player\'s database).')
param controlDatabaseSku object = {
  name: 'Standard_B2s'
  tier: 'Burstable'
}

@description('Compute size of each regional index database (PostgreSQL Flexible Server).')
param indexDatabaseSku object = {
  name: 'Standard_B2s'
  tier: 'Burstable'
}

var tags = {
  'azd-env-name': environmentName
}
var resourceToken = toLower(uniqueString(subscription().id, environmentName))

// App names are fixed here, so every URL below is known before any app exists (no deployment cycle).
var functionsAppName = 'func-cloudstore-${resourceToken}'
var keyServerAppName = 'app-keyserver-${resourceToken}'
var playerAppName = 'app-player-${resourceToken}'
var functionsUrl = 'https://${functionsAppName}.azurewebsites.net/'
var keyServerUrl = 'https://${keyServerAppName}.azurewebsites.net/'
var playerOriginResolved = empty(playerOrigin) ? 'https://${playerAppName}.azurewebsites.net' : playerOrigin

resource rg 'Microsoft.Resources/resourceGroups@2025-04-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identities 'modules/identities.bicep' = {
  scope: rg
  name: 'identities'
  params: {
    location: location
    resourceToken: resourceToken
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  scope: rg
  name: 'monitoring'
  params: {
    location: location
    resourceToken: resourceToken
    tags: tags
  }
}

module roles 'modules/roles.bicep' = {
  name: 'roles-${resourceToken}'
  params: {
    resourceGroupId: rg.id
    environmentName: environmentName
  }
}

module regional 'modules/regional.bicep' = [
  for region in items(regionLocations): {
    scope: rg
    name: 'regional-${region.key}'
    params: {
      regionId: region.key
      location: region.value
      resourceToken: resourceToken
      tags: tags
      playerOrigin: playerOriginResolved
      functionsPrincipalId: identities.outputs.functionsPrincipalId
      functionsIdentityName: identities.outputs.functionsIdentityName
      keyServerPrincipalId: identities.outputs.keyServerPrincipalId
      keyServerRoleDefinitionId: roles.outputs.keyServerKeysRoleDefinitionId
      indexDatabaseSku: indexDatabaseSku
    }
  }
]

module controlDatabase 'modules/controldatabase.bicep' = {
  scope: rg
  name: 'controldatabase'
  params: {
    location: location
    resourceToken: resourceToken
    tags: tags
    functionsPrincipalId: identities.outputs.functionsPrincipalId
    functionsIdentityName: identities.outputs.functionsIdentityName
    playerPrincipalId: identities.outputs.playerPrincipalId
    playerIdentityName: identities.outputs.playerIdentityName
    sku: controlDatabaseSku
  }
}

module functions 'modules/functions.bicep' = {
  scope: rg
  name: 'functions'
  params: {
    location: location
    resourceToken: resourceToken
    tags: tags
    appName: functionsAppName
    identityId: identities.outputs.functionsIdentityId
    principalId: identities.outputs.functionsPrincipalId
    clientId: identities.outputs.functionsClientId
    identityName: identities.outputs.functionsIdentityName
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    playerOrigin: playerOriginResolved
    keyServerUrl: keyServerUrl
    smtpHost: smtpHost
    smtpPort: smtpPort
    mailSecurity: mailSecurity
    mailFromAddress: mailFromAddress
    smtpUserName: smtpUserName
    smtpPasswordSecretUri: smtpPasswordSecretUri
    directoryHost: controlDatabase.outputs.host
    directoryDatabaseName: controlDatabase.outputs.directoryDatabaseName
    regions: [
      for (region, i) in items(regionLocations): {
        regionId: regional[i].outputs.regionId
        blobEndpoint: regional[i].outputs.blobEndpoint
        indexHost: regional[i].outputs.indexHost
        indexDatabaseName: regional[i].outputs.indexDatabaseName
      }
    ]
  }
}

module keyServer 'modules/appservice.bicep' = {
  scope: rg
  name: 'keyserver'
  params: {
    location: location
    tags: tags
    serviceName: 'keyserver'
    appName: keyServerAppName
    planName: 'plan-keyserver-${resourceToken}'
    skuName: webPlanSku
    identityId: identities.outputs.keyServerIdentityId
    clientId: identities.outputs.keyServerClientId
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    appSettings: [
      {
        name: 'KeyServer__TokenIssuer'
        value: '${functionsUrl}api'
      }
      {
        name: 'KeyServer__PlayerOrigin'
        value: playerOriginResolved
      }
      {
        // The organisations' keys live in each region's Key Vault (AzureKeyVaultKeyStore), reached with
        // the key server's user-assigned identity.
        name: 'KeyServer__KeyStore'
        value: 'AzureKeyVault'
      }
      {
        name: 'KeyServer__ManagedIdentityClientId'
        value: identities.outputs.keyServerClientId
      }
    ]
    // Each region's vault, for the key server's Key Vault key store.
    regionalAppSettings: [
      for (region, i) in items(regionLocations): {
        name: 'KeyServer__KeyVaults__${region.key}'
        value: regional[i].outputs.vaultUri
      }
    ]
  }
}

// The player needs no data-plane role: it calls the functions API and the key server with the
// signed-in person's tokens, and browsers read storage with read URLs. Its own database (sessions, the keys that
// seal its cookies) is on the control plane's server, reached with its identity's Entra ID token.
module player 'modules/appservice.bicep' = {
  scope: rg
  name: 'player'
  params: {
    location: location
    tags: tags
    serviceName: 'player'
    appName: playerAppName
    planName: 'plan-player-${resourceToken}'
    skuName: webPlanSku
    identityId: identities.outputs.playerIdentityId
    clientId: identities.outputs.playerClientId
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    appSettings: [
      {
        name: 'Player__FunctionsUrl'
        value: functionsUrl
      }
      {
        name: 'Player__KeyServerUrl'
        value: keyServerUrl
      }
      {
        name: 'Player__Database__Provider'
        value: 'postgresql'
      }
      {
        // Entra ID authentication: no password in the string; the app signs in with its identity's token.
        name: 'Player__Database__ConnectionString'
        value: 'Host=${controlDatabase.outputs.host};Database=${controlDatabase.outputs.playerDatabaseName};Username=${identities.outputs.playerIdentityName};Ssl Mode=VerifyFull'
      }
      {
        name: 'Player__Database__Credential'
        value: 'managed-identity'
      }
      {
        // Only the app's identity can sign in as itself, so the app applies its migrations at start (an advisory
        // lock lets one instance at a time do it): docs/OPERATIONS.md, Deploying to Azure.
        name: 'Player__Database__ApplyMigrationsOnStart'
        value: 'true'
      }
    ]
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output FUNCTIONS_URL string = 'https://${functions.outputs.defaultHostName}/'
output KEYSERVER_URL string = 'https://${keyServer.outputs.defaultHostName}/'
output PLAYER_URL string = 'https://${player.outputs.defaultHostName}/'
output PLAYER_ORIGIN string = playerOriginResolved
output CONTROL_DATABASE_HOST string = controlDatabase.outputs.host
output REGIONAL_BLOB_ENDPOINTS array = [for (region, i) in items(regionLocations): {
  region: region.key
  blobEndpoint: regional[i].outputs.blobEndpoint
}]
