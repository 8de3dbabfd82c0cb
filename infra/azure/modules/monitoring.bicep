// Log Analytics workspace and a workspace-based Application Insights component shared by the three
// hosts. The connection string is not an output: each app module reads it from the component itself.

@description('Azure location (the control-plane location).')
param location string

@description('Suffix that makes names unique per subscription and environment.')
@minLength(8)
param resourceToken string

@description('Tags for every resource.')
param tags object

resource workspace 'Microsoft.OperationalInsights/workspaces@2026-03-01' = {
  name: 'log-${resourceToken}'
  location: location
  tags: tags
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${resourceToken}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    IngestionMode: 'LogAnalytics'
  }
}

output applicationInsightsName string = appInsights.name
output logAnalyticsWorkspaceName string = workspace.name
