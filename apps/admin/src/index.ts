/** @module @telehook/admin — the admin API: projects, services, events, replay. */
export { type AdminApp, type AdminDeps, createAdminApp } from './app'
export {
  type AdminConfig,
  AdminConfigError,
  loadAdminConfig,
  masterKeyProblem,
  publicUrlProblem,
} from './config'
export {
  decryptSecret,
  encryptSecret,
  importMasterKey,
  loadMasterKey,
  MASTER_KEY_FILE,
} from './crypto'
export { ApiError } from './errors'
export {
  defaultAllowedHosts,
  inspectRequest,
  PUBLIC_PATHS,
  routerPath,
} from './request-guard'
export {
  ADMIN_TOKEN_PREFIX,
  bearerToken,
  createAdminToken,
  createFirstAdminToken,
  FIRST_TOKEN_ID,
  revokeAdminToken,
  verifyAdminToken,
} from './tokens'
