/**
 * The client of Gantry's own API, and the credentials it sends. Importing this module loads no HTTP
 * library: createApiClient imports axios when it is called.
 */
export { authApi, type AuthApi } from './auth-api.js'
export { createApiClient } from './http-client.js'
export { configDirectory, openCredentialsStore, type CredentialsStoreOptions } from './credentials.js'
export { credentialSource, REFRESH_MARGIN_MS, type CredentialSourceOptions, type RefreshedTokens } from './credential-source.js'
export { normaliseServerUrl, displayUrl } from './server-url.js'
export type * from './types.js'
