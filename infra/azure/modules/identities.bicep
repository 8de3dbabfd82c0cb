// One user-assigned managed identity per host. They exist before the apps and the regional resources,
// so the regional modules can grant each one its roles on each account and vault without a cycle
// (the function app needs the regional endpoints; the regional roles need the app's identity).

@description('Azure location of the identities (the control-plane location).')
param location string

@description('Suffix that makes names unique per subscription and environment.')
@minLength(8)
param resourceToken string

@description('Tags for every resource.')
param tags object

resource functions 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: 'id-functions-${resourceToken}'
  location: location
  tags: tags
}

resource keyServer 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: 'id-keyserver-${resourceToken}'
  location: location
  tags: tags
}

resource player 'Microsoft.ManagedIdentity/userAssignedIdentities@2024-11-30' = {
  name: 'id-player-${resourceToken}'
  location: location
  tags: tags
}

output functionsIdentityId string = functions.id
output functionsIdentityName string = functions.name
output functionsPrincipalId string = functions.properties.principalId
output functionsClientId string = functions.properties.clientId

output keyServerIdentityId string = keyServer.id
output keyServerPrincipalId string = keyServer.properties.principalId
output keyServerClientId string = keyServer.properties.clientId

output playerIdentityId string = player.id
output playerIdentityName string = player.name
output playerPrincipalId string = player.properties.principalId
output playerClientId string = player.properties.clientId
