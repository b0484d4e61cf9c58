/** @module Telehook persistence: Drizzle schema (`telehook.*`), migrations and `openDb()`. */
export type { Database, Db, OpenDbOptions } from './client'
export { openDb } from './client'
export {
  type ConnectOptions,
  type ConnectRetry,
  DatabaseConnectError,
  DEFAULT_CONNECT_TIMEOUT_MS,
  redactUrl,
  StartupAbortedError,
} from './connect'
export {
  DataDirLockedError,
  DataDirPermissionError,
  type LockOptions,
  lockDataDir,
  makeFilesPrivate,
  secureDataDir,
} from './data-lock'
export { type KeyFileValue, readOrCreateKeyFile } from './key-file'
export type { Migration } from './migrate'
export { migrate } from './migrate'
export { migrations } from './migrations.generated'
export { type NativeClient, type NativeQuery, nativeClient } from './native'
export { type PgliteReport, pgliteReportLine } from './pglite'
export { queryRows } from './rows'
export * from './schema'
