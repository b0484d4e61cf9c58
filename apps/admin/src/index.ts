/** @module @telehook/admin — the admin API: projects, services, events, replay. */
export { type AdminApp, type AdminDeps, createAdminApp } from './app'
export {
  type AdminConfig,
  AdminConfigError,
  loadAdminConfig,
  masterKeyProblem,
  publicUrlProblem,
} from './config'
export type { AdminContext } from './context'
export {
  decryptSecret,
  encryptSecret,
  importMasterKey,
  loadMasterKey,
  MASTER_KEY_FILE,
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
  routerPath,
} from './request-guard'
