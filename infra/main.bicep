// Thor: everything one environment (test or prod) needs in Azure, in one resource group.
//
//   Log Analytics + Application Insights (Entra ID auth only)
//   Storage account (no shared keys, TLS 1.2): Flex deployment container, the queue thor-events
//     (+ thor-events-poison) and Thor's tables
//   User-assigned managed identity: storage data roles, metrics publisher, Key Vault secrets reader
//   Key Vault (RBAC): per-tenant credentials, written by operators after deployment (docs/deploy.md)
//   Flex Consumption plan (FC1, Linux) + the Function App (Python 3.11)
//   Host keys, one per caller: marketplace, zort, webtracking, customerservice
//
// Deploy: az deployment group create -g <rg> --template-file infra/main.bicep --parameters infra/main.<env>.bicepparam
// API versions follow Azure-Samples/azure-functions-flex-consumption-samples (IaC/bicep, IaC/armtemplate)
// and Azure-Samples/functions-quickstart-python-http-azd.

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

@allowed([
  'test'
  'prod'
])
@description('Which environment this is. prod also turns on Key Vault purge protection.')
param environmentName string

@description('Function App name; also the host name <appName>.azurewebsites.net that callers use.')
param appName string = 'thorfunctions${environmentName}'

@description('Region of every resource. It must offer Flex Consumption: az functionapp list-flexconsumption-locations')
param location string = resourceGroup().location

@maxValue(1000)
@description('Flex Consumption: most instances the app may scale out to.')
param maximumInstanceCount int = 100

@allowed([
  512
  2048
  4096
])
@description('Flex Consumption: memory of each instance.')
param instanceMemoryMB int = 2048

@description('Falabella Seller Center API (app setting MARKETPLACE_BASE_URL).')
param marketplaceBaseUrl string = 'https://sellercenter-api.falabella.com'

@description('The OMS REST API base URL (app setting OMS_BASE_URL).')
param omsBaseUrl string

@description('ZORT API (app setting ZORT_API_BASE_URL).')
param zortApiBaseUrl string = 'https://open-api.zortout.com/v4'

@description('Seconds before each processing retry, comma-separated (app setting THOR_RETRY_DELAYS; the code has the same default).')
param retryDelays string = '10,60,300,1800,7200'

@description('''Which systems each tenant is configured for. Only these get Key Vault references, because
App Service hands an app the literal "@Microsoft.KeyVault(...)" text when a reference cannot be resolved
(for example, the secret was never created), and Thor would take that text for a credential.
Entries per tenant: a system name (MARKETPLACE, OMS, ZORT) turns on that system's required settings;
"<SYSTEM>_<SETTING>" also turns on one of its optional settings (MARKETPLACE_BUSINESS_UNIT,
MARKETPLACE_READY_TO_SHIP, MARKETPLACE_TIMEZONE (default America/Santiago, docs/api.md "Marketplace times"), MARKETPLACE_STOCK_SYNC, MARKETPLACE_STOCK_BUFFER, MARKETPLACE_STOCK_SELLER_WAREHOUSE_ID,
MARKETPLACE_STOCK_GSC_FACILITY_ID, the order-loop flows of docs/operations.md "Order loop": MARKETPLACE_DOCUMENTS,
MARKETPLACE_INVOICED_BY_MARKETPLACE, MARKETPLACE_DOCUMENT_DUE_HOURS, MARKETPLACE_CANCELLATIONS, MARKETPLACE_CANCEL_REASON,
MARKETPLACE_SELLER_DELIVERY, MARKETPLACE_RETURNS_DESK (each off unless listed and switched on),
ZORT_STORENAME, ZORT_APIKEY, ZORT_APISECRET; and 'ALERT' with ALERT_TEAMS_WEBHOOK_URL,
ALERT_SLACK_WEBHOOK_URL, ALERT_EMAIL_TO, ALERT_QUIET_HOURS: the tenant's own alert channels). MARKETPLACE_READY_TO_SHIP is off
unless listed here and its secret is "true": it sets items ready to ship in the marketplace (docs/settings.md); the same
holds for MARKETPLACE_STOCK_SYNC (stock sync from ZORT, docs/operations.md "Stock sync") and MARKETPLACE_PRICE_SYNC (price
sync from ZORT, docs/operations.md "Price sync"; also MARKETPLACE_PRICE_ZORT_CURRENCY, _PRICE_MARKUP_PERCENT, _PRICE_ADJUSTMENT,
_PRICE_GUARD_PERCENT).
Example: { faco: [ 'MARKETPLACE', 'OMS', 'ZORT', 'ZORT_STORENAME', 'ZORT_APIKEY', 'ZORT_APISECRET' ] }
Create every referenced secret BEFORE deploying with it (docs/deploy.md).''')
param tenantSystems object = {}

@description('''Alerts and reports (docs/operations.md "Alerts and reports"; docs/deploy.md, "Alert channels"). The global alert
secrets that exist in Key Vault, by app setting name: ALERT_TEAMS_WEBHOOK_URL (secret alert-teams-webhook-url),
ALERT_SLACK_WEBHOOK_URL (alert-slack-webhook-url), ACS_ACCESS_KEY (acs-access-key; without it Thor asks ACS
for an Entra ID token as its managed identity). A tenant's own channels are per-tenant settings: list
'ALERT' and e.g. 'ALERT_TEAMS_WEBHOOK_URL' for the tenant in tenantSystems.''')
param alertSecrets array = []

@description('Alert e-mail recipients for every tenant, comma-separated (ALERT_EMAIL_TO; empty: no e-mail).')
param alertEmailTo string = ''

@description('Azure Communication Services endpoint, e.g. https://<resource>.communication.azure.com (ACS_ENDPOINT; empty: no e-mail).')
param acsEndpoint string = ''

@description('The sender address of a verified ACS e-mail domain, e.g. DoNotReply@<domain> (ACS_SENDER).')
param acsSender string = ''

@description('Hours before an incident still open is reminded (ALERT_REMINDER_HOURS).')
param alertReminderHours string = '4'

@description('Quiet hours for every tenant, HH-HH in each tenant\'s own zone, e.g. 22-07 (ALERT_QUIET_HOURS; empty: none).')
param alertQuietHours string = ''

@description('Hours a report\'s download link works (REPORT_LINK_HOURS; a user delegation SAS lasts at most 168).')
param reportLinkHours string = '72'

@description('Optional: object id of a user or group that may write the tenant secrets (Key Vault Secrets Officer). Empty: none.')
param operatorPrincipalId string = ''

@description('''Operations console (/console): client id of the Microsoft Entra app registration staff sign in
with (App Service authentication; docs/deploy.md, step 10). Empty: no authentication is configured and the
console stays off (CONSOLE_AUTH=off: every console page answers 403).''')
param consoleClientId string = ''

@description('''Operations console: who may act (replay, re-sync). Object id of an Entra group (its members may act;
the app registration must emit the groups claim) and/or an app role value of the app registration (users assigned
it may act). Everyone else signed in may read only. docs/deploy.md, step 10.''')
param consoleOperatorGroup string = ''
param consoleOperatorRole string = 'Thor.Operator'


// One host key per caller, so each can be rotated (or revoked) alone. No defaults: the values come from
// the environment through the .bicepparam files. A host key opens every function of the app.
@description('''Create the four host keys. false on the very first deployment of an environment: a new
Flex Consumption app without code has no running host to take keys (Azure/azure-functions-host#11379),
so the order is deploy (false), publish the code, deploy again with true (docs/deploy.md, steps 4 and 6).''')
param createHostKeys bool = false

@secure()
@minLength(32)
@description('Host key "marketplace": Falabella Seller Center webhooks.')
param marketplaceHostKey string

@secure()
@minLength(32)
@description('Host key "zort": ZORT webhooks.')
param zortHostKey string

@secure()
@minLength(32)
@description('Host key "webtracking": the customer-facing order status page.')
param webtrackingHostKey string

@secure()
@minLength(32)
@description('Host key "customerservice": refund and exchange requests.')
param customerserviceHostKey string

// ---------------------------------------------------------------------------------------------
// Names and constants
// ---------------------------------------------------------------------------------------------

var tags = {
  application: 'thor'
  environment: environmentName
}
var isProd = environmentName == 'prod'
var suffix = uniqueString(resourceGroup().id, appName)
var storageAccountName = take('stthor${environmentName}${suffix}', 24) // 3-24 lower-case letters and digits
var keyVaultName = take('kvthor${environmentName}${suffix}', 24) // 3-24, globally unique
var deploymentContainerName = 'app-package-${take(toLower(appName), 40)}'

var queueNames = [
  'thor-events'
  'thor-events-poison'
]
var tableNames = [
  'ThorEvents'
  'ThorOrders'
  'ThorProducts'
  'ThorIdempotency'
  'ThorCheckpoints'
  'ThorClaims'
  'ThorActivity'
  'ThorStock'
  'ThorIncidents'
  'ThorFeeds'
  'ThorPrices'
]

// Built-in role definition ids (learn.microsoft.com/azure/role-based-access-control/built-in-roles).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b' // Storage Blob Data Owner
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88' // Storage Queue Data Contributor
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3' // Storage Table Data Contributor
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb' // Monitoring Metrics Publisher
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6' // Key Vault Secrets User
  keyVaultSecretsOfficer: 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7' // Key Vault Secrets Officer
}
// Host storage (blobs: deployment package, keys, locks), the event queue and Thor's tables.
var storageRoleIds = [
  roles.storageBlobDataOwner
  roles.storageQueueDataContributor
  roles.storageTableDataContributor
]

// ---------------------------------------------------------------------------------------------
// Per-tenant settings. Must match shared/settings.py SETTINGS (system, setting, required) and shared/tenants.py TENANTS:
// tests/unit/test_infra_drift.py reads these two variables and fails on any difference.
// App setting <SYSTEM>_<SETTING>_<TENANT> (e.g. ZORT_KEY1_FACO) references the Key Vault secret
// <system>-<setting>-<tenant>, lower case with dashes (e.g. zort-key1-faco).
// ---------------------------------------------------------------------------------------------

var tenants = [
  'faar'
  'faco'
  'facl'
  'fape'
  'soar'
  'soco'
  'socl'
  'sope'
  'somx'
]

var tenantSettings = [
  { system: 'MARKETPLACE', setting: 'USER_ID', required: true }
  { system: 'MARKETPLACE', setting: 'API_KEY', required: true }
  { system: 'MARKETPLACE', setting: 'SELLER_ID', required: true }
  { system: 'MARKETPLACE', setting: 'BUSINESS_UNIT', required: false }
  { system: 'MARKETPLACE', setting: 'READY_TO_SHIP', required: false }
  { system: 'MARKETPLACE', setting: 'TIMEZONE', required: false }
  { system: 'MARKETPLACE', setting: 'STOCK_SYNC', required: false }
  { system: 'MARKETPLACE', setting: 'STOCK_BUFFER', required: false }
  { system: 'MARKETPLACE', setting: 'STOCK_SELLER_WAREHOUSE_ID', required: false }
  { system: 'MARKETPLACE', setting: 'STOCK_GSC_FACILITY_ID', required: false }
  { system: 'MARKETPLACE', setting: 'DOCUMENTS', required: false }
  { system: 'MARKETPLACE', setting: 'INVOICED_BY_MARKETPLACE', required: false }
  { system: 'MARKETPLACE', setting: 'DOCUMENT_DUE_HOURS', required: false }
  { system: 'MARKETPLACE', setting: 'CANCELLATIONS', required: false }
  { system: 'MARKETPLACE', setting: 'CANCEL_REASON', required: false }
  { system: 'MARKETPLACE', setting: 'SELLER_DELIVERY', required: false }
  { system: 'MARKETPLACE', setting: 'RETURNS_DESK', required: false }
  { system: 'MARKETPLACE', setting: 'PRICE_SYNC', required: false }
  { system: 'MARKETPLACE', setting: 'PRICE_ZORT_CURRENCY', required: false }
  { system: 'MARKETPLACE', setting: 'PRICE_MARKUP_PERCENT', required: false }
  { system: 'MARKETPLACE', setting: 'PRICE_ADJUSTMENT', required: false }
  { system: 'MARKETPLACE', setting: 'PRICE_GUARD_PERCENT', required: false }
  { system: 'OMS', setting: 'TOKEN', required: true }
  { system: 'OMS', setting: 'TENANT', required: true }
  { system: 'ZORT', setting: 'KEY1', required: true }
  { system: 'ZORT', setting: 'STORENAME', required: false }
  { system: 'ZORT', setting: 'APIKEY', required: false }
  { system: 'ZORT', setting: 'APISECRET', required: false }
  { system: 'ALERT', setting: 'TEAMS_WEBHOOK_URL', required: false }
  { system: 'ALERT', setting: 'SLACK_WEBHOOK_URL', required: false }
  { system: 'ALERT', setting: 'EMAIL_TO', required: false }
  { system: 'ALERT', setting: 'QUIET_HOURS', required: false }
]

// Every (tenant, setting) pair: tenants x tenantSettings, flattened.
var tenantSettingMatrix = [for i in range(0, length(tenants) * length(tenantSettings)): {
  tenant: tenants[i / length(tenantSettings)]
  system: tenantSettings[i % length(tenantSettings)].system
  setting: tenantSettings[i % length(tenantSettings)].setting
  required: tenantSettings[i % length(tenantSettings)].required
}]
// Tenants missing from tenantSystems are configured for nothing (their work waits, visible).
var enabledByTenant = union(toObject(tenants, t => t, t => []), tenantSystems)
// A required setting is on when its system is listed; an optional one when '<SYSTEM>_<SETTING>' is listed too.
var enabledTenantSettings = filter(tenantSettingMatrix, x => contains(enabledByTenant[x.tenant], x.system) && (x.required || contains(enabledByTenant[x.tenant], '${x.system}_${x.setting}')))
// { ZORT_KEY1_FACO: '@Microsoft.KeyVault(VaultName=<vault>;SecretName=zort-key1-faco)', ... }
var tenantAppSettings = toObject(enabledTenantSettings, x => '${x.system}_${x.setting}_${toUpper(x.tenant)}', x => format('@Microsoft.KeyVault(VaultName={0};SecretName={1})', keyVaultName, toLower(replace('${x.system}_${x.setting}_${x.tenant}', '_', '-'))))

// ---------------------------------------------------------------------------------------------
// Monitoring
// ---------------------------------------------------------------------------------------------

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2025-02-01' = {
  name: 'log-${appName}'
  location: location
  tags: tags
  properties: {
    retentionInDays: 30
    sku: {
      name: 'PerGB2018'
    }
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: 'appi-${appName}'
  location: location
  tags: tags
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
    DisableLocalAuth: true // telemetry only with Entra ID (the identity below, Monitoring Metrics Publisher)
  }
}

// ---------------------------------------------------------------------------------------------
// Storage: host storage, Flex deployment packages, Thor's queue and tables
// ---------------------------------------------------------------------------------------------

resource storage 'Microsoft.Storage/storageAccounts@2024-01-01' = {
  name: storageAccountName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false // identity only: no account keys, no connection strings
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
  }

  resource blobService 'blobServices' = {
    name: 'default'

    // Flex Consumption deploys the app's zip package here.
    resource deploymentContainer 'containers' = {
      name: deploymentContainerName
      properties: {
        publicAccess: 'None'
      }
    }

    // The daily reports (CSV), read through time-limited user delegation SAS links.
    resource reportsContainer 'containers' = {
      name: 'thor-reports'
      properties: {
        publicAccess: 'None'
      }
    }
  }

  resource queueService 'queueServices' = {
    name: 'default'

    resource queues 'queues' = [for queueName in queueNames: {
      name: queueName
    }]
  }

  resource tableService 'tableServices' = {
    name: 'default'

    resource tables 'tables' = [for tableName in tableNames: {
      name: tableName
    }]
  }
}

// ---------------------------------------------------------------------------------------------
// Identity and its roles
// ---------------------------------------------------------------------------------------------

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: 'id-${appName}'
  location: location
  tags: tags
}

resource storageRoleAssignments 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for roleId in storageRoleIds: {
  name: guid(storage.id, identity.id, roleId)
  scope: storage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roleId)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}]

resource metricsPublisherRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(appInsights.id, identity.id, roles.monitoringMetricsPublisher)
  scope: appInsights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

// ---------------------------------------------------------------------------------------------
// Key Vault: per-tenant credentials (secrets are written by operators, never by this template)
// ---------------------------------------------------------------------------------------------

resource keyVault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: keyVaultName
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    // Purge protection can be turned on but never off again; Azure rejects an explicit false.
    enablePurgeProtection: isProd ? true : null
  }
}

resource secretsUserRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(keyVault.id, identity.id, roles.keyVaultSecretsUser)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: identity.properties.principalId
    principalType: 'ServicePrincipal'
  }
}

resource operatorSecretsOfficerRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(operatorPrincipalId)) {
  name: guid(keyVault.id, operatorPrincipalId, roles.keyVaultSecretsOfficer)
  scope: keyVault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsOfficer)
    principalId: operatorPrincipalId
  }
}

// ---------------------------------------------------------------------------------------------
// Flex Consumption plan and the Function App
// ---------------------------------------------------------------------------------------------

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${appName}'
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true // Linux
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identity.id // resolve @Microsoft.KeyVault(...) settings as this identity
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${storage.properties.primaryEndpoints.blob}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
  dependsOn: [
    storage::blobService::deploymentContainer
    storageRoleAssignments
  ]
}

// Settings that are not per tenant. Flex Consumption takes the runtime from functionAppConfig, so
// FUNCTIONS_WORKER_RUNTIME / FUNCTIONS_EXTENSION_VERSION are not set here.
var baseAppSettings = {
  // Host and Thor storage through the identity (shared keys are off).
  AzureWebJobsStorage__accountName: storage.name
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.properties.clientId
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identity.properties.clientId};Authorization=AAD'
  MARKETPLACE_BASE_URL: marketplaceBaseUrl
  OMS_BASE_URL: omsBaseUrl
  ZORT_API_BASE_URL: zortApiBaseUrl
  THOR_RETRY_DELAYS: retryDelays
  // The console's activity counts are kept in memory up to this long, then written (0: at once).
  THOR_ACTIVITY_FLUSH_SECONDS: '5'
  THOR_ZORT_MATCH_WINDOW: '1800'
  // The console trusts the platform's principal headers only when App Service authentication is set
  // up below (consoleAuth); otherwise it refuses every page.
  CONSOLE_AUTH: empty(consoleClientId) ? 'off' : 'platform'
  // Key of the console's anti-CSRF tokens: the Key Vault secret `console-csrf-key`, written once by an
  // operator and rotated on purpose (docs/deploy.md step 11), so open forms survive a deployment.
  // Until it is written the reference stays unresolved: Thor reads it as unset, console actions 503.
  CONSOLE_CSRF_KEY: format('@Microsoft.KeyVault(VaultName={0};SecretName=console-csrf-key)', keyVaultName)
  // Alerts and reports: links in messages point at this app's console.
  CONSOLE_BASE_URL: 'https://${functionApp.properties.defaultHostName}'
  ALERT_REMINDER_HOURS: alertReminderHours
  ALERT_TEAMS_WEBHOOK_URL: contains(alertSecrets, 'ALERT_TEAMS_WEBHOOK_URL') ? '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=alert-teams-webhook-url)' : ''
  ALERT_SLACK_WEBHOOK_URL: contains(alertSecrets, 'ALERT_SLACK_WEBHOOK_URL') ? '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=alert-slack-webhook-url)' : ''
  ALERT_EMAIL_TO: alertEmailTo
  ALERT_QUIET_HOURS: alertQuietHours
  ACS_ENDPOINT: acsEndpoint
  ACS_ACCESS_KEY: contains(alertSecrets, 'ACS_ACCESS_KEY') ? '@Microsoft.KeyVault(VaultName=${keyVaultName};SecretName=acs-access-key)' : ''
  ACS_SENDER: acsSender
  REPORT_LINK_HOURS: reportLinkHours
  // The console verifies the ID token App Service authentication forwards (token store on, below):
  // signature against the tenant's published keys, issuer, audience, expiry.
  CONSOLE_CLIENT_ID: consoleClientId
  CONSOLE_TOKEN_ISSUER: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
  CONSOLE_JWKS_URL: '${environment().authentication.loginEndpoint}${tenant().tenantId}/discovery/v2.0/keys'
  CONSOLE_OPERATOR_GROUP: consoleOperatorGroup
  CONSOLE_OPERATOR_ROLE: consoleOperatorRole
}

// This resource REPLACES all app settings on every deployment: settings added by hand are removed.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: union(baseAppSettings, tenantAppSettings)
  dependsOn: [
    storageRoleAssignments
    metricsPublisherRole
    secretsUserRole
  ]
}

// ---------------------------------------------------------------------------------------------
// App Service authentication (Easy Auth) for the operations console, Microsoft Entra ID.
// Unauthenticated requests are let through (AllowAnonymous) and Thor decides per route: the console
// redirects to /.auth/login/aad, while the webhooks, the status and refund API and /health keep their
// function keys and can never be answered with a sign-in redirect (the marketplace counts only a 200 as
// delivered). Hence no excludedPaths to keep in step with the routes (their wildcard rules beyond a
// trailing /* are undocumented). The platform strips callers' X-MS-CLIENT-PRINCIPAL* headers and sets
// them for signed-in users; docs/deploy.md step 10 checks that on Flex Consumption after each deployment.
// ---------------------------------------------------------------------------------------------

resource consoleAuth 'Microsoft.Web/sites/config@2024-04-01' = if (!empty(consoleClientId)) {
  parent: functionApp
  name: 'authsettingsV2'
  properties: {
    platform: {
      enabled: true
    }
    globalValidation: {
      requireAuthentication: false
      unauthenticatedClientAction: 'AllowAnonymous'
    }
    identityProviders: {
      azureActiveDirectory: {
        enabled: true
        registration: {
          clientId: consoleClientId
          openIdIssuer: '${environment().authentication.loginEndpoint}${tenant().tenantId}/v2.0'
        }
        validation: {
          allowedAudiences: [
            consoleClientId
            'api://${consoleClientId}'
          ]
        }
      }
    }
    login: {
      tokenStore: {
        enabled: true // without it App Service forwards no X-MS-TOKEN-AAD-ID-TOKEN, which Thor verifies
      }
    }
    httpSettings: {
      requireHttps: true
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Host keys, one per caller, only when createHostKeys (after the code is published: see the
// parameter). Redeploying with a new value rotates that key; so does
// az functionapp keys set (then update the value the next deployment uses, or it is set back).
// ---------------------------------------------------------------------------------------------

#disable-next-line BCP081
resource marketplaceKey 'Microsoft.Web/sites/host/functionKeys@2024-04-01' = if (createHostKeys) {
  name: '${functionApp.name}/default/marketplace'
  properties: {
    name: 'marketplace'
    value: marketplaceHostKey
  }
  dependsOn: [
    appSettings
  ]
}

#disable-next-line BCP081
resource zortKey 'Microsoft.Web/sites/host/functionKeys@2024-04-01' = if (createHostKeys) {
  name: '${functionApp.name}/default/zort'
  properties: {
    name: 'zort'
    value: zortHostKey
  }
  dependsOn: [
    appSettings
  ]
}

#disable-next-line BCP081
resource webtrackingKey 'Microsoft.Web/sites/host/functionKeys@2024-04-01' = if (createHostKeys) {
  name: '${functionApp.name}/default/webtracking'
  properties: {
    name: 'webtracking'
    value: webtrackingHostKey
  }
  dependsOn: [
    appSettings
  ]
}

#disable-next-line BCP081
resource customerserviceKey 'Microsoft.Web/sites/host/functionKeys@2024-04-01' = if (createHostKeys) {
  name: '${functionApp.name}/default/customerservice'
  properties: {
    name: 'customerservice'
    value: customerserviceHostKey
  }
  dependsOn: [
    appSettings
  ]
}

// ---------------------------------------------------------------------------------------------
// Outputs (no secrets)
// ---------------------------------------------------------------------------------------------

output functionAppName string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
output storageAccountName string = storage.name
output keyVaultName string = keyVault.name
output identityClientId string = identity.properties.clientId
output tenantAppSettingNames array = map(enabledTenantSettings, x => '${x.system}_${x.setting}_${toUpper(x.tenant)}')
