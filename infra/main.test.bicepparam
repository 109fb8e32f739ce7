// Parameters of the test environment (app thorfunctionstest). Deploy with:
//   az deployment group create -g <resource group> --template-file infra/main.bicep --parameters infra/main.test.bicepparam
// Secrets and environment-specific values come from environment variables (docs/deploy.md, step 3);
// a missing variable stops the deployment before anything changes.
using 'main.bicep'

param environmentName = 'test'

param omsBaseUrl = readEnvironmentVariable('THOR_TEST_OMS_BASE_URL')

// Optional: object id of the operator (or group) allowed to write tenant secrets.
param operatorPrincipalId = readEnvironmentVariable('THOR_TEST_OPERATOR_PRINCIPAL_ID', '')

// Tenants and systems whose Key Vault secrets EXIST in this environment's vault. Add a tenant here only
// after its secrets are set (docs/deploy.md, step 5), then deploy again. Example:
//   faco: [ 'MARKETPLACE', 'OMS', 'ZORT', 'ZORT_STORENAME', 'ZORT_APIKEY', 'ZORT_APISECRET' ]
param tenantSystems = {}

// One host key per caller (at least 32 characters; e.g. openssl rand -hex 32).
// Off on the first deployment (no code yet, no host to take keys); THOR_CREATE_HOST_KEYS=true once the
// code is published (docs/deploy.md, steps 4 and 6).
param createHostKeys = bool(readEnvironmentVariable('THOR_CREATE_HOST_KEYS', 'false'))
param marketplaceHostKey = readEnvironmentVariable('THOR_TEST_HOST_KEY_MARKETPLACE')
param zortHostKey = readEnvironmentVariable('THOR_TEST_HOST_KEY_ZORT')
param webtrackingHostKey = readEnvironmentVariable('THOR_TEST_HOST_KEY_WEBTRACKING')
param customerserviceHostKey = readEnvironmentVariable('THOR_TEST_HOST_KEY_CUSTOMERSERVICE')

// Operations console: the Entra app registration's client id (docs/deploy.md, step 10). Empty: console off.
param consoleClientId = readEnvironmentVariable('THOR_TEST_CONSOLE_CLIENT_ID', '')
param consoleOperatorGroup = readEnvironmentVariable('THOR_TEST_CONSOLE_OPERATOR_GROUP', '')
