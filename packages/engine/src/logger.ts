/** Structured logger: one JSON object per line. */
export interface Logger {
  info(obj: Record<string, unknown>): void
  warn(obj: Record<string, unknown>): void
  error(obj: Record<string, unknown>): void
}

/**
 * A logger that writes one JSON line per call, with `time` and `level` first.
 * @param write where lines go (default: stdout via `console.log`)
 * @example const logger = createJsonLogger(); logger.info({ msg: 'started', port: 8000 })
 */
export function createJsonLogger(write: (line: string) => void = (l) => console.log(l)): Logger {
  const emit = (level: string, obj: Record<string, unknown>) => {
    let line: string
    try {
      line = JSON.stringify({ time: new Date().toISOString(), level, ...obj }, errorReplacer)
    } catch {
      line = JSON.stringify({
        time: new Date().toISOString(),
        level,
        msg: 'unserializable log line',
      })
    }
    write(line)
  }
  return {
    info: (obj) => emit('info', obj),
    warn: (obj) => emit('warn', obj),
    error: (obj) => emit('error', obj),
  }
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message }
  if (typeof value === 'bigint') return value.toString()
  return value
}

/** A logger that drops everything (the default when none is given). */
export const silentLogger: Logger = { info() {}, warn() {}, error() {} }

/** The message of anything thrown. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message || error.name
  return String(error)
}
