/**
 * @module cli
 * `bun run sim` (and `telehook sim`): start the simulator on a port, send one incoming message to
 * a webhook, or chat with a webhook in the terminal as a phone user. This file parses and
 * dispatches; each command lives in `cli/`. The CLI is runtime code: it may use the process, stdin
 * and signals; the simulator core does not.
 */
import { parseSimArgs, type SimArgs, UsageError } from './cli/args.ts'
import { chatCommand } from './cli/chat.ts'
import { usageText } from './cli/help.ts'
import type { CliIo } from './cli/io.ts'
import { sendCommand } from './cli/send.ts'
import { serveCommand } from './cli/serve.ts'

export {
  type MessageArgs,
  parseSimArgs,
  type ServeArgs,
  type SimArgs,
  UsageError,
} from './cli/args.ts'
export { USAGE, usageText } from './cli/help.ts'
export type { CliIo } from './cli/io.ts'
export { describeOutcome } from './cli/outcome.ts'

const defaultIo: CliIo = {
  out: (l) => console.log(l),
  err: (l) => console.error(l),
}

/**
 * Runs the simulator command line and resolves with the exit code (0 ok, 1 failure, 2 usage).
 * @example
 * process.exitCode = await runSimCli(process.argv.slice(2))
 */
export async function runSimCli(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let args: SimArgs
  try {
    args = parseSimArgs(argv)
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`sim: ${e.message}`)
      return 2
    }
    throw e
  }
  try {
    if (args.command === 'help') {
      io.out(usageText(io.prog))
      return 0
    }
    if (args.command === 'serve') return await serveCommand(args, io)
    if (args.command === 'send') return await sendCommand(args, io)
    return await chatCommand(args, io)
  } catch (e) {
    io.err(`sim: ${e instanceof Error ? e.message : String(e)}`)
    return 1
  }
}

if (import.meta.main) {
  process.exitCode = await runSimCli(process.argv.slice(2))
}
