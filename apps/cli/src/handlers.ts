/** @module Loads a user's handler module at start-up, from source runs and the compiled binary alike. */
import { isAbsolute, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { Handlers } from '@telehook/protocol'
import * as protocol from '@telehook/protocol'
import { EVENT_TYPES } from '@telehook/protocol'
import { UsageError } from './args.ts'

let registered = false

/**
 * Makes `@telehook/protocol` (and the short alias `telehook`) importable by a handler module that
 * lives outside this repository: next to the compiled binary there is no node_modules to find it in.
 */
export function provideProtocolModule(): void {
  if (registered) return
  registered = true
  const exports = { ...protocol } as Record<string, unknown>
  Bun.plugin({
    name: 'telehook-protocol',
    setup(build) {
      build.module('@telehook/protocol', () => ({ exports, loader: 'object' }))
      build.module('telehook', () => ({ exports, loader: 'object' }))
    },
  })
}

const KINDS = ['sync', 'async'] as const

/** Checks the shape of what a module exported, so a typo fails at start-up and not on a delivery. */
export function asHandlers(value: unknown, source: string): Handlers {
  if (typeof value !== 'object' || value === null) {
    throw new UsageError(`${source}: export default (or 'handlers') must be an object of handlers`)
  }
  const record = value as Record<string, unknown>
  for (const key of Object.keys(record)) {
    if (!(KINDS as readonly string[]).includes(key)) {
      throw new UsageError(`${source}: unexpected key '${key}' (expected 'sync' and/or 'async')`)
    }
  }
  for (const kind of KINDS) {
    const group = record[kind]
    if (group === undefined) continue
    if (typeof group !== 'object' || group === null) {
      throw new UsageError(`${source}: '${kind}' must be an object keyed by event type`)
    }
    for (const [event, fn] of Object.entries(group)) {
      if (!(EVENT_TYPES as readonly string[]).includes(event)) {
        throw new UsageError(
          `${source}: '${kind}.${event}' is not a Telerivet event (${EVENT_TYPES.join(', ')})`,
        )
      }
      if (typeof fn !== 'function') {
        throw new UsageError(`${source}: '${kind}.${event}' must be a function`)
      }
    }
  }
  return record as Handlers
}

/**
 * The directory the user ran the command in. `bun run dev` at the repository root reaches
 * `telehook` through turbo, which starts it in apps/cli (and `bun run` sets PWD to that too);
 * turbo says where it was invoked in `TURBO_INVOCATION_DIR`, npm and pnpm in `INIT_CWD`.
 * @example invocationDir(process.env, process.cwd())
 */
export function invocationDir(env: Record<string, string | undefined>, cwd: string): string {
  for (const value of [env.INIT_CWD, env.TURBO_INVOCATION_DIR]) {
    if (value && isAbsolute(value)) return value
  }
  return cwd
}

/**
 * Imports the handler module at `path` (relative to `cwd`) and returns its handlers. `setting`
 * names where the path came from in error messages.
 * @example const handlers = await loadHandlerModule('./bot.ts', process.cwd())
 */
export async function loadHandlerModule(
  path: string,
  cwd: string,
  setting = '--handlers',
): Promise<Handlers> {
  const absolute = isAbsolute(path) ? path : resolve(cwd, path)
  if (!(await Bun.file(absolute).exists())) {
    const relative = isAbsolute(path) ? '' : ` (${path} resolved from ${cwd})`
    throw new UsageError(`${setting}: no such file '${absolute}'${relative}`)
  }
  provideProtocolModule()
  let mod: Record<string, unknown>
  try {
    mod = await import(pathToFileURL(absolute).href)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    throw new UsageError(`${setting}: cannot load '${absolute}': ${message.split('\n')[0]}`)
  }
  return asHandlers(mod.default ?? mod.handlers, absolute)
}
