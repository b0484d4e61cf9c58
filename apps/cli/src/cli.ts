/** @module The `telehook` command: dispatches a parsed command; exit statuses 0, 1 (failure), 2 (usage). */

import { resolve } from 'node:path'
import { createAdminToken, listAdminTokens, revokeAdminToken } from '@telehook/admin'
import { StartupAbortedError } from '@telehook/db'
import { type Env, parseCommand, UsageError } from './args.ts'
import { backupDataDir } from './backup.ts'
import { resolveServeConfig } from './config.ts'
import { helpText } from './help.ts'
import { type Io, openConfiguredDb, startServer } from './serve.ts'
import { tokenTable } from './tokens.ts'
import { VERSION } from './version.ts'

/**
 * Resolves when the process should stop (with the signal's name, e.g. `SIGTERM`); tests resolve it
 * themselves. Before `serve` is up it aborts start-up at once; once up, it starts the drain.
 */
export type StopSignal = Promise<unknown>

/** Exit status of a start-up stopped by a signal: 128 + the signal's number, as shells report it. */
function abortedStatus(reason: unknown): number {
  return reason === 'SIGTERM' ? 143 : 130
}

/**
 * Runs one `telehook` command and returns its exit status. `serve` returns once `stopSignal`
 * settles and everything is closed.
 * @example process.exitCode = await runCli(process.argv.slice(2), process.env, io, signal)
 */
export async function runCli(
  argv: string[],
  env: Env,
  io: Io,
  stopSignal: StopSignal = new Promise(() => {}),
): Promise<number> {
  const startup = new AbortController()
  void stopSignal.then((reason) => startup.abort(reason))
  const signal = startup.signal
  try {
    const command = parseCommand(argv, env)
    switch (command.kind) {
      case 'help':
        io.out(helpText(command.topic).trimEnd())
        return 0
      case 'version':
        io.out(`telehook ${VERSION}`)
        return 0
      case 'migrate': {
        const database = await openConfiguredDb(command.db, { signal, err: io.err })
        await database.close()
        io.err(`telehook: migrations applied (${database.driver})`)
        return 0
      }
      case 'token-create': {
        const database = await openConfiguredDb(command.db, { signal, err: io.err })
        try {
          const created = await createAdminToken(database, command.name ?? 'cli')
          // The token alone on stdout, so `TOKEN=$(telehook token create)` works.
          io.out(created.token)
        } finally {
          await database.close()
        }
        return 0
      }
      case 'token-list': {
        const database = await openConfiguredDb(command.db, { signal, err: io.err })
        try {
          const rows = await listAdminTokens(database)
          if (command.json) for (const row of rows) io.out(JSON.stringify(row))
          else for (const line of tokenTable(rows)) io.out(line)
        } finally {
          await database.close()
        }
        return 0
      }
      case 'token-revoke': {
        const database = await openConfiguredDb(command.db, { signal, err: io.err })
        try {
          if (!(await revokeAdminToken(database, command.id))) {
            io.err(`telehook: no admin token with id '${command.id}' (see 'telehook token list')`)
            return 1
          }
        } finally {
          await database.close()
        }
        io.err(`telehook: revoked ${command.id}; requests presenting it are refused from now on`)
        return 0
      }
      case 'backup': {
        const dataDir = resolve(io.cwd, command.dataDir)
        const stamp = new Date().toISOString().replace(/[:.]/g, '-')
        const out = resolve(io.cwd, command.out ?? `telehook-backup-${stamp}.tar.gz`)
        const { path, bytes } = await backupDataDir(dataDir, out)
        io.err(
          `telehook: backup of ${dataDir} written to ${path} (${(bytes / 1048576).toFixed(1)} MiB)`,
        )
        return 0
      }
      case 'sim': {
        // Loaded on demand: serving never pays for the simulator.
        const { runSimCli } = await import('@telehook/simulator/cli')
        return await runSimCli(command.argv, { out: io.out, err: io.err, prog: 'telehook sim' })
      }
      case 'serve': {
        const config = resolveServeConfig(command.args)
        const server = await startServer(config, io, signal)
        const reason = await stopSignal
        io.err(
          `telehook: ${typeof reason === 'string' ? `${reason}, ` : ''}stopping (draining requests in flight and jobs, at most ${config.webhook.stopTimeoutMs / 1000} s; a later signal exits at once)`,
        )
        await server.stop()
        io.err('telehook: stopped')
        return 0
      }
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`telehook: ${error.message}`)
      return 2
    }
    if (error instanceof StartupAbortedError) {
      io.err(`telehook: ${error.message}`)
      return abortedStatus(error.reason)
    }
    io.err(`telehook: ${error instanceof Error ? error.message : String(error)}`)
    return 1
  }
}
