// The control plane: one Azure Functions app on the Flex Consumption plan (dotnet-isolated, .NET 10),
// with its own host storage account (deployment package and the host's timer/lease blobs), reached
// only through the app's managed identity.

@description('Azure location (the control-plane location).')
param location string

@description('Suffix that makes names unique per subscription and environment.')
@minLength(8)
param resourceToken string

@description('Tags for every resource.')
param tags object

@description('Name of the function app.')
param appName string

@description('Resource id of the control plane\'s user-assigned identity.')
param identityId string

@description('Principal (object) id of that identity.')
param principalId string

@description('Client id of that identity: DefaultAzureCredential and the host pick it with it.')
param clientId string

@description('Name of that identity: its user name in the directory and the regional index databases.')
param identityName string

@description('Application Insights component whose connection string the app gets as a setting.')
param applicationInsightsName string

@description('The web player\'s origin, the only browser origin the API answers (CORS, in the app).')
param playerOrigin string

@description('Base URL of the key server (https://host).')
param keyServerUrl string

@description('Host name of the control plane\'s PostgreSQL server (modules/controldatabase.bicep).')
param directoryHost string

@description('Name of the directory database on it.')
param directoryDatabaseName string

@description('Per region: regionId, blobEndpoint, indexHost, indexDatabaseName (outputs of modules/regional.bicep).')
param regions array

@description('SMTP relay that sends invitation and password-reset mail (e.g. smtp.azurecomm.net for Azure Communication Services).')
param smtpHost string

@description('SMTP port of the relay; 587 with STARTTLS unless mailSecurity says otherwise.')
param smtpPort int

@description('StartTls (587) or SslOnConnect (465); None is refused by the app for anything but loopback.')
@allowed([
  'StartTls'
  'SslOnConnect'
])
param mailSecurity string

@description('Sender address of invitation and password-reset mail; the relay must be allowed to send as it.')
param mailFromAddress string

@description('SMTP user name, when the relay wants one; empty for none.')
param smtpUserName string

@description('Key Vault secret URI of the SMTP password (read by the app\'s identity through a Key Vault reference, never put in a setting); empty for none.')
param smtpPasswordSecretUri string

// Storage Blob Data Owner on the app's own host account only: the host keeps its leases, timer
// schedules and the deployment package there (https://learn.microsoft.com/azure/azure-functions/flex-consumption-how-to).
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var deploymentContainerName = 'app-package'

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource hostStorage 'Microsoft.Storage/storageAccounts@2026-06-01' = {
  name: take('stfunc${resourceToken}', 24)
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowCrossTenantReplication: false
    publicNetworkAccess: 'Enabled'
  }
}

resource hostBlobService 'Microsoft.Storage/storageAccounts/blobServices@2026-06-01' = {
  parent: hostStorage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2026-06-01' = {
  parent: hostBlobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource hostStorageData 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, principalId, storageBlobDataOwner)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', storageBlobDataOwner)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: 'plan-functions-${resourceToken}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

// Mail:… (functions/CloudStore.ControlPlane/Mail/MailOptions.cs). The password, when there is one, stays in Key Vault:
// the setting holds only a reference that the platform resolves with the app's identity.
var mailSettings = concat(
  [
    {
      name: 'Mail__SmtpHost'
      value: smtpHost
    }
    {
      name: 'Mail__SmtpPort'
      value: string(smtpPort)
    }
    {
      name: 'Mail__Security'
      value: mailSecurity
    }
    {
      name: 'Mail__FromAddress'
      value: mailFromAddress
    }
  ],
  empty(smtpUserName) ? [] : [
    {
      name: 'Mail__UserName'
      value: smtpUserName
    }
    {
      name: 'Mail__Password'
      value: '@Microsoft.KeyVault(SecretUri=${smtpPasswordSecretUri})'
    }
  ]
)

// Regions:{region}:… as the control plane reads them (functions/Regional/RegionOptions.cs): Azure
// storage through the managed identity (user-delegation SAS), and the region's index database.
var regionSettings = flatten(map(regions, region => [
  {
    name: 'Regions__${region.regionId}__Storage__Kind'
    value: 'azure-blob'
  }
  {
    name: 'Regions__${region.regionId}__Storage__BlobEndpoint'
    value: region.blobEndpoint
  }
  {
    name: 'Regions__${region.regionId}__Storage__Credential'
    value: 'managed-identity'
  }
  {
    name: 'Regions__${region.regionId}__Index__Provider'
    value: 'postgresql'
  }
  {
    // Entra ID authentication: no password in the string; the app signs in with its identity's token.
    name: 'Regions__${region.regionId}__Index__ConnectionString'
    value: 'Host=${region.indexHost};Database=${region.indexDatabaseName};Username=${identityName};Ssl Mode=VerifyFull'
  }
  {
    name: 'Regions__${region.regionId}__Index__Credential'
    value: 'managed-identity'
  }
]))

// Directory:… (functions/CloudStore.ControlPlane/Data/DirectoryServices.cs): the directory on the control plane's
// server, which every instance shares, reached as the regional indexes are.
var directorySettings = [
  {
    name: 'Directory__Provider'
    value: 'postgresql'
  }
  {
    name: 'Directory__ConnectionString'
    value: 'Host=${directoryHost};Database=${directoryDatabaseName};Username=${identityName};Ssl Mode=VerifyFull'
  }
  {
    name: 'Directory__Credential'
    value: 'managed-identity'
  }
  {
    // Only the app's identity can sign in as itself, so the app applies the directory's and every index's
    // migrations at start (an advisory lock lets one instance at a time do it): docs/OPERATIONS.md, Deploying to Azure.
    name: 'Directory__ApplyMigrationsOnStart'
    value: 'true'
  }
]

resource app 'Microsoft.Web/sites@2025-03-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': 'functions' })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references (the SMTP password) are resolved with the app's own identity.
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      // Platform CORS for the player's origin only: the Functions host routes a request to a function by its
      // declared methods, so a browser's OPTIONS preflight never reaches the app's own CORS middleware
      // (which serves the same single origin in the local host).
      cors: {
        allowedOrigins: [
          playerOrigin
        ]
        supportCredentials: false
      }
      appSettings: concat(
        [
          {
            // The host's storage through the identity: no connection string, no account key.
            name: 'AzureWebJobsStorage__blobServiceUri'
            value: hostStorage.properties.primaryEndpoints.blob
          }
          {
            name: 'AzureWebJobsStorage__credential'
            value: 'managedidentity'
          }
          {
            name: 'AzureWebJobsStorage__clientId'
            value: clientId
          }
          {
            name: 'AZURE_CLIENT_ID'
            value: clientId
          }
          {
            name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
            value: appInsights.properties.ConnectionString
          }
          {
            name: 'Auth__Issuer'
            value: 'https://${appName}.azurewebsites.net/api'
          }
          {
            name: 'KeyServer__Url'
            value: keyServerUrl
          }
          {
            name: 'Player__Origin'
            value: playerOrigin
          }
        ],
        mailSettings,
        directorySettings,
        regionSettings
      )
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${hostStorage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: 100
        instanceMemoryMB: 2048
      }
      runtime: {
        name: 'dotnet-isolated'
        version: '10.0'
      }
    }
  }
  dependsOn: [
    hostStorageData
    deploymentContainer
  ]
}

// Deployments go through Entra ID (azd, zip deploy); FTP and basic publishing credentials are off.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: app
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2025-03-01' = {
  parent: app
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = app.name
output defaultHostName string = app.properties.defaultHostName
