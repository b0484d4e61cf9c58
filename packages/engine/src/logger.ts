import type { PgliteReport } from '@telehook/db'

/** Structured logger: one JSON object per line. */
export interface Logger {
  /** Detail for troubleshooting; optional, so a logger may leave it out. */
  debug?(obj: Record<string, unknown>): void
  info(obj: Record<string, unknown>): void
  warn(obj: Record<string, unknown>): void
  error(obj: Record<string, unknown>): void
}

/** The levels of `LOG_LEVEL`, from the most to the least verbose. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

/**
 * A logger that writes one JSON line per call, with `time` and `level` first, for calls at
 * `level` or above (default `info`: debug lines are dropped).
 * @param write where lines go (default: stdout via `console.log`)
 * @example const logger = createJsonLogger(undefined, { level: 'warn' }); logger.warn({ msg: 'slow' })
 */
export function createJsonLogger(
  write: (line: string) => void = (l) => console.log(l),
  { level = 'info' }: { level?: LogLevel } = {},
): Logger {
  const threshold = LOG_LEVELS.indexOf(level)
  const at = (name: LogLevel) =>
    LOG_LEVELS.indexOf(name) >= threshold
      ? (obj: Record<string, unknown>) => emit(name, obj)
      : () => {}
  const emit = (level: string, obj: Record<string, unknown>) => {
    let line: string
    try {
      const record = { time: new Date().toISOString(), level, ...obj }
      // A replacer takes JSON.stringify off its fast path: only lines that need it use one.
      line = needsReplacer(obj) ? JSON.stringify(record, errorReplacer) : JSON.stringify(record)
    } catch {
      line = JSON.stringify({
        time: new Date().toISOString(),
        level,
        msg: 'unserializable log line',
      })
    }
    write(line)
  }
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

/** Whether a line holds a value only `errorReplacer` writes right (an Error, a bigint, nested). */
function needsReplacer(obj: Record<string, unknown>): boolean {
  for (const key in obj) {
    const value = obj[key]
    if (typeof value === 'bigint' || (typeof value === 'object' && value !== null)) return true
  }
  return false
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message }
  if (typeof value === 'bigint') return value.toString()
  return value
}

/** A logger that drops everything (the default when none is given). */
/**
 * Passes the embedded database's reports (`openDb`'s `log`: PGlite stopped, a restart failed, it
 * is back) to a logger, at their level, so they are JSON lines like the rest of the service's.
 * @example openDb({ dataDir, log: pgliteReportsTo(logger) })
 */
export const pgliteReportsTo =
  (logger: Logger) =>
  ({ level, ...fields }: PgliteReport): void =>
    logger[level](fields)

export const silentLogger: Logger = { info() {}, warn() {}, error() {} }

/** The message of anything thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name
  return String(error)
}
