/** @module @telehook/admin — the admin API: projects, services, events, replay. */

export { routerPath } from '@telehook/engine/request-guard'
export {
  readApiKey,
  type StoredKeysReport,
  verifyStoredApiKeys,
} from './api-keys'
export { type AdminApp, type AdminDeps, createAdminApp } from './app'
export {
  type AuthFailureLimit,
  adminFetch,
  DEFAULT_AUTH_FAILURE_LIMIT,
} from './auth-limit'
export {
  type AdminConfig,
  AdminConfigError,
  loadAdminConfig,
  masterKeyProblem,
  publicUrlProblem,
} from './config'
export type { AdminContext } from './context'
export {
  DecryptError,
  decryptSecret,
  encryptSecret,
  importMasterKey,
  loadMasterKey,
  MASTER_KEY_FILE,
  masterKeyId,
} from './crypto'
export { ApiError } from './errors'
export {
  ADMIN_TOKEN_PREFIX,
  type AdminTokenInfo,
  bearerToken,
  createAdminToken,
  createFirstAdminToken,
  FIRST_TOKEN_ID,
  listAdminTokens,
  revokeAdminToken,
  verifyAdminToken,
} from './modules/tokens/service'
export {
  defaultAllowedHosts,
  inspectRequest,
  PUBLIC_PATHS,
} from './request-guard'
