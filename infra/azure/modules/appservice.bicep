// One ASP.NET Core host on App Service for Linux (.NET 10), on its own plan: the key server and the web
// player are separate trust boundaries, so they do not share workers.

@description('Azure location (the control-plane location).')
param location string

@description('Tags for every resource.')
param tags object

@description('azd service name (azure.yaml): keyserver or player.')
@allowed([
  'keyserver'
  'player'
])
param serviceName string

@description('Name of the web app; its default host name is {appName}.azurewebsites.net.')
param appName string

@description('Name of its App Service plan.')
param planName string

@description('App Service plan size.')
param skuName string

@description('Resource id of the app\'s user-assigned identity.')
param identityId string

@description('Client id of that identity (AZURE_CLIENT_ID for DefaultAzureCredential).')
param clientId string

@description('Application Insights component whose connection string the app gets as a setting.')
param applicationInsightsName string

@description('Further app settings, name/value pairs. Nothing secret: the hosts use their identity.')
param appSettings array

@description('More app settings, one or more per region (built with a loop over the regional modules).')
param regionalAppSettings array = []

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2025-03-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'linux'
  sku: {
    name: skuName
  }
  properties: {
    reserved: true
  }
}

resource app 'Microsoft.Web/sites@2025-03-01' = {
  name: appName
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'app,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    clientAffinityEnabled: false
    siteConfig: {
      linuxFxVersion: 'DOTNETCORE|10.0'
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      alwaysOn: true
      appSettings: concat(
        [
          {
            name: 'AZURE_CLIENT_ID'
            value: clientId
          }
          {
            name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
            value: appInsights.properties.ConnectionString
          }
        ],
        appSettings,
        regionalAppSettings
      )
    }
  }
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
