/**
 * @module cli
 * `bun run sim` (and `telehook sim`): start the simulator on a port, send one incoming message to
 * a webhook, or chat with a webhook in the terminal as a phone user. A runtime entry file: it may
 * use the process, stdin and signals; the simulator core does not.
 */
import { createInterface } from 'node:readline'
import { generateSecret, WEBHOOK_PORTS } from '@telehook/protocol'
import { newId } from './ids.ts'
import type { IncomingMessageInput, IncomingOutcome } from './incoming.ts'
import type { Attempt, Delivery, Message } from './model.ts'
import { startSimulator } from './serve.ts'
import { createSimulator } from './simulator.ts'

/** A bad command line: the message is one line, the exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** Options common to the commands. */
export interface ServeArgs {
  command: 'serve'
  port: number
  host: string
  apiKey: string | null
  projectId: string | null
  timeScale: number
  /** Accept webhook URLs on any port (Telerivet allows only 80, 443, 8000, 8080, 8443). */
  anyPort: boolean
}

/** `send` and `chat`: against a webhook URL (an in-process simulator) or a running simulator. */
export interface MessageArgs {
  command: 'send' | 'chat'
  /** The webhook URL to deliver to (in-process simulator). */
  url: string | null
  secret: string | null
  /** A running simulator's base URL (then its services are used). */
  sim: string | null
  projectId: string | null
  from: string
  to: string | null
  /** The message text (send). */
  text: string | null
}

/** What the command line asks for. */
export type SimArgs = ServeArgs | MessageArgs | { command: 'help' }

/**
 * The help text; `prog` is how the user runs it (`bun run sim --` in the repository, `telehook
 * sim` from the executable).
 */
export function usageText(prog = 'bun run sim --'): string {
  return `telehook simulator: a local Telerivet (REST API + webhooks) for development and tests

Usage:
  ${prog} [--port 8088] [--host 127.0.0.1] [--api-key KEY] [--project-id PJ...] [--time-scale N]
      [--any-port]
      Start the simulator. Prints the URL to give Telehook as TELERIVET_API_URL, and the
      API key and project id to onboard with through Telehook's admin API.
  ${prog} send --url <webhook url> [--secret S] [--from +16505550123] "text"
  ${prog} send --sim <simulator url> [--project-id PJ...] [--from +16505550123] "text"
      Send one incoming message and print what the webhook answered.
  ${prog} chat --url <webhook url> [--secret S] [--from +16505550123]
  ${prog} chat --sim <simulator url> [--project-id PJ...] [--from +16505550123]
      Chat with your webhook in the terminal: you are the phone user, replies print as SMS.

Options:
  --port N          port to listen on (default 8088; 0 picks a free one)
  --host H          interface to bind (default 127.0.0.1)
  --api-key KEY     the API key the REST API accepts (generated when absent)
  --project-id ID   the project id (generated when absent)
  --time-scale N    simulated seconds per real second for retries and statuses (default 1)
  --any-port        accept webhook URLs on any port (Telerivet: 80, 443, 8000, 8080, 8443 only)
  --url URL         webhook URL of an incoming_message_webhook service
  --secret S        the service's webhook secret (sent as the secret parameter)
  --sim URL         a running simulator (e.g. http://127.0.0.1:8088) to drive instead
  --from NUMBER     the phone user's number (default +16505550123)
  --to NUMBER       your phone's number (default: the project's default route)
  -h, --help        this help

Control API of a running simulator (JSON; every route is documented in the simulator's README,
packages/simulator/README.md in the Telehook repository):
  POST /_sim/incoming {"from_number":"+16505550123","content":"hi"}   a phone user writes
  POST /_sim/messages/:id/status {"status":"delivered"}               a status change
  POST /_sim/contacts, /_sim/broadcast, /_sim/messages/:id/metadata   other events
  GET  /_sim/deliveries                                              what was posted, with attempts
  POST /_sim/advance {"ms":60000}, POST /_sim/settle                 move simulated time
`
}

/** The help text, as `bun run sim` shows it. */
export const USAGE = usageText()

const FLAGS: Record<string, { value: boolean; commands: string[] }> = {
  port: { value: true, commands: ['serve'] },
  host: { value: true, commands: ['serve'] },
  'api-key': { value: true, commands: ['serve'] },
  'project-id': { value: true, commands: ['serve', 'send', 'chat'] },
  'time-scale': { value: true, commands: ['serve'] },
  'any-port': { value: false, commands: ['serve'] },
  url: { value: true, commands: ['send', 'chat'] },
  secret: { value: true, commands: ['send', 'chat'] },
  sim: { value: true, commands: ['send', 'chat'] },
  from: { value: true, commands: ['send', 'chat'] },
  to: { value: true, commands: ['send', 'chat'] },
}

/** Parses the command line (without the runtime and script names). Throws {@link UsageError}. */
export function parseSimArgs(argv: readonly string[]): SimArgs {
  const args = argv[0] === '--' ? argv.slice(1) : [...argv]
  let command: 'serve' | 'send' | 'chat' = 'serve'
  if (args[0] === 'send' || args[0] === 'chat' || args[0] === 'serve') {
    command = args.shift() as typeof command
  }
  const values = new Map<string, string>()
  const positional: string[] = []
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string
    if (a === '-h' || a === '--help' || a === 'help') return { command: 'help' }
    if (a === '--') {
      positional.push(...args.slice(i + 1))
      break
    }
    if (!a.startsWith('-') || a === '-') {
      positional.push(a)
      continue
    }
    const eq = a.indexOf('=')
    const name = (eq === -1 ? a : a.slice(0, eq)).replace(/^--?/, '')
    const spec = FLAGS[name]
    if (spec === undefined) throw new UsageError(`unknown option ${a.split('=')[0]} (see --help)`)
    if (!spec.commands.includes(command)) {
      throw new UsageError(`option --${name} does not apply to '${command}' (see --help)`)
    }
    let value: string | undefined
    if (!spec.value) {
      if (eq !== -1) throw new UsageError(`option --${name} takes no value`)
      value = ''
    } else if (eq !== -1) value = a.slice(eq + 1)
    else {
      value = args[i + 1]
      if (value === undefined || (value.startsWith('--') && value.length > 2)) {
        throw new UsageError(`option --${name} needs a value`)
      }
      i++
    }
    if (values.has(name)) throw new UsageError(`option --${name} is given twice`)
    values.set(name, value)
  }
  if (command === 'serve') {
    if (positional.length > 0)
      throw new UsageError(`unexpected argument '${positional[0]}' (see --help)`)
    const port = Number(values.get('port') ?? 8088)
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new UsageError(`--port must be an integer from 0 to 65535, not '${values.get('port')}'`)
    }
    const timeScale = Number(values.get('time-scale') ?? 1)
    if (!Number.isFinite(timeScale) || timeScale <= 0) {
      throw new UsageError(
        `--time-scale must be a positive number, not '${values.get('time-scale')}'`,
      )
    }
    const projectId = values.get('project-id') ?? null
    if (projectId !== null && (projectId.length > 34 || !/^[A-Za-z0-9_-]+$/.test(projectId))) {
      throw new UsageError('--project-id must be up to 34 letters, digits, _ or -')
    }
    const apiKey = values.get('api-key') ?? null
    if (apiKey === '') throw new UsageError('--api-key must not be empty')
    return {
      command,
      port,
      host: values.get('host') ?? '127.0.0.1',
      apiKey,
      projectId,
      timeScale,
      anyPort: values.has('any-port'),
    }
  }
  const url = values.get('url') ?? null
  const sim = values.get('sim') ?? null
  if ((url === null) === (sim === null)) {
    throw new UsageError(
      `'${command}' needs exactly one of --url <webhook url> or --sim <simulator url>`,
    )
  }
  for (const [flag, v] of [
    ['url', url],
    ['sim', sim],
  ] as const) {
    if (v !== null && !/^https?:\/\/[^\s]+$/.test(v)) {
      throw new UsageError(`--${flag} must be an http(s) URL, not '${v}'`)
    }
  }
  if (sim !== null && values.has('secret')) {
    throw new UsageError('--secret goes with --url; a running simulator uses its services’ secrets')
  }
  let text: string | null = null
  if (command === 'send') {
    if (positional.length === 0) throw new UsageError("'send' needs the message text")
    text = positional.join(' ')
  } else if (positional.length > 0) {
    throw new UsageError(
      `unexpected argument '${positional[0]}' (chat reads messages from the terminal)`,
    )
  }
  return {
    command,
    url,
    secret: values.get('secret') ?? null,
    sim,
    projectId: values.get('project-id') ?? null,
    from: values.get('from') ?? '+16505550123',
    to: values.get('to') ?? null,
    text,
  }
}

/** Where the CLI writes and reads; tests pass their own. */
export interface CliIo {
  out(line: string): void
  err(line: string): void
  /** The user's lines for `chat` (default: stdin). */
  lines?: AsyncIterable<string>
  /** Stops `serve` (default: SIGINT/SIGTERM). */
  signal?: AbortSignal
  /** How the user runs this command, for the help text (default `bun run sim --`). */
  prog?: string
}

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
    if (args.command === 'serve') return await serve(args, io)
    return await talk(args, io)
  } catch (e) {
    io.err(`sim: ${e instanceof Error ? e.message : String(e)}`)
    return 1
  }
}

function logAttempt(io: CliIo) {
  return (d: Delivery, a: Attempt) => {
    const status = a.http_status === null ? (a.error ?? 'no answer') : `HTTP ${a.http_status}`
    const next =
      d.status === 'pending' && d.next_attempt_at !== null
        ? `, retry at ${new Date(d.next_attempt_at).toISOString()}`
        : d.status === 'failed'
          ? ', given up'
          : ''
    io.out(
      `[sim] ${d.event} #${a.number} -> ${d.url}: ${status} (${Math.round(a.duration_ms)} ms${next})`,
    )
  }
}

async function serve(args: ServeArgs, io: CliIo): Promise<number> {
  const running = await startSimulator({
    port: args.port,
    hostname: args.host,
    ...(args.apiKey === null ? {} : { apiKey: args.apiKey }),
    projectId: args.projectId ?? newId('PJ'),
    timeScale: args.timeScale,
    ...(args.anyPort ? { allowedPorts: 'any' as const } : {}),
    onAttempt: logAttempt(io),
  })
  io.out(`Telehook simulator listening on ${running.url}`)
  io.out('')
  // What Telehook reads: the API URL. The key and project id go through its admin API.
  io.out(`  Give Telehook:  TELERIVET_API_URL=${running.apiUrl}`)
  io.out(
    `  Onboard with:   {"project_id": "${running.projectId}", "api_key": "${running.apiKey}"}  (POST /v1/projects on Telehook's admin API)`,
  )
  io.out('')
  io.out(
    `Control API: POST ${running.url}/_sim/incoming {"from_number":"+16505550123","content":"hi"}`,
  )
  io.out(`             GET  ${running.url}/_sim/deliveries   (every route: --help)`)
  const signal = io.signal ?? processSignal()
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve()
    else signal.addEventListener('abort', () => resolve(), { once: true })
  })
  await running.close()
  return 0
}

function processSignal(): AbortSignal {
  const controller = new AbortController()
  const stop = () => controller.abort()
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
  return controller.signal
}

/** Sends one message through an in-process simulator or a running one. */
type Sender = (content: string) => Promise<IncomingOutcome>

async function makeSender(args: MessageArgs, io: CliIo): Promise<{ send: Sender; close(): void }> {
  if (args.sim !== null) {
    const base = args.sim.replace(/\/+$/, '')
    const send: Sender = async (content) => {
      const input: IncomingMessageInput = { from_number: args.from, content }
      if (args.projectId !== null) input.project_id = args.projectId
      if (args.to !== null) input.to_number = args.to
      const res = await fetch(`${base}/_sim/incoming`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(input),
      })
      const json = (await res.json()) as IncomingOutcome & { error?: { message: string } }
      if (!res.ok) throw new Error(json.error?.message ?? `simulator answered HTTP ${res.status}`)
      return json
    }
    return { send, close: () => {} }
  }
  const url = args.url as string
  const port = Number(new URL(url).port || (url.startsWith('https:') ? 443 : 80))
  if (!WEBHOOK_PORTS.includes(port)) {
    io.err(
      `sim: note: Telerivet only accepts webhook ports ${WEBHOOK_PORTS.join(', ')}; port ${port} works here only`,
    )
  }
  // Manual clock: no retry fires behind the user's back in a one-shot command or a chat.
  const sim = createSimulator({ manualClock: true, allowedPorts: 'any' })
  sim.createService(sim.projectId, {
    service_type: 'incoming_message_webhook',
    name: 'CLI webhook',
    config: { url, secret: args.secret ?? generateSecret() },
  })
  const send: Sender = (content) =>
    sim.incomingMessage({
      from_number: args.from,
      content,
      ...(args.to === null ? {} : { to_number: args.to }),
    })
  return { send, close: () => sim.close() }
}

/** The lines that show what the webhook(s) did with one incoming message. */
export function describeOutcome(
  outcome: IncomingOutcome,
  userNumber: string,
  verbose: boolean,
): string[] {
  const lines: string[] = []
  if (outcome.deliveries.length === 0) {
    lines.push('(no active incoming_message_webhook service took the message)')
  }
  for (const d of outcome.deliveries) {
    if (!d.ok) {
      lines.push(
        `! webhook ${d.service_id}: ${d.http_status === null ? d.error : `HTTP ${d.http_status}`}` +
          ' (Telerivet would retry it later)',
      )
      if (d.reply_body) lines.push(`  body: ${truncate(d.reply_body, 300)}`)
      continue
    }
    if (verbose) {
      lines.push(`webhook ${d.service_id}: HTTP ${d.http_status}`)
      lines.push(`  reply: ${d.reply_body === '' ? '(empty)' : truncate(d.reply_body ?? '', 2000)}`)
    }
    for (const e of d.reply_errors) lines.push(`! reply not acted upon: ${e}`)
    for (const w of d.reply_warnings) lines.push(`! note: ${w}`)
    for (const m of d.messages) lines.push(formatMessage(m, userNumber))
    const vars = d.reply?.variables
    if (vars !== undefined) {
      for (const [k, v] of Object.entries(vars)) lines.push(`  · ${k} = ${JSON.stringify(v)}`)
    }
  }
  return lines
}

function formatMessage(m: Message, userNumber: string): string {
  if (m.message_type === 'ussd') return `bot (USSD ${m.to_number})`
  return m.to_number === userNumber ? `bot> ${m.content}` : `bot → ${m.to_number}> ${m.content}`
}

function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n)}…` : s
}

async function talk(args: MessageArgs, io: CliIo): Promise<number> {
  const { send, close } = await makeSender(args, io)
  try {
    if (args.command === 'send') {
      const outcome = await send(args.text as string)
      for (const l of describeOutcome(outcome, args.from, true)) io.out(l)
      return outcome.deliveries.length > 0 && outcome.deliveries.every((d) => d.ok) ? 0 : 1
    }
    io.out(
      `Chatting as ${args.from} with ${args.url ?? args.sim}. Type a message; /quit or Ctrl-D ends.`,
    )
    const lines = io.lines ?? stdinLines()
    // As with send: a message the webhook did not take (refused, 5xx, no service) fails the run.
    let failed = false
    for await (const raw of lines) {
      const line = raw.trim()
      if (line === '') continue
      if (line === '/quit' || line === '/exit') break
      try {
        const outcome = await send(line)
        for (const l of describeOutcome(outcome, args.from, false)) io.out(l)
        if (outcome.deliveries.length === 0 || !outcome.deliveries.every((d) => d.ok)) failed = true
      } catch (e) {
        failed = true
        io.err(`sim: ${e instanceof Error ? e.message : String(e)}`)
      }
    }
    return failed ? 1 : 0
  } finally {
    close()
  }
}

/**
 * The terminal's lines. Events feed a queue (not `for await` over readline) so that input that
 * ends while a webhook is still answering, as a pipe does, never prompts a closed interface.
 */
async function* stdinLines(): AsyncIterable<string> {
  const tty = process.stdin.isTTY === true
  const rl = createInterface({ input: process.stdin, output: process.stdout, terminal: tty })
  rl.setPrompt('you> ')
  const queue: string[] = []
  let closed = false
  let wake: (() => void) | null = null
  rl.on('line', (line) => {
    queue.push(line)
    wake?.()
  })
  rl.on('close', () => {
    closed = true
    wake?.()
  })
  const prompt = () => {
    if (tty && !closed) rl.prompt()
  }
  try {
    prompt()
    for (;;) {
      const line = queue.shift()
      if (line !== undefined) {
        // Piped input is not echoed by a terminal: show it so the transcript reads as a chat.
        if (!tty) process.stdout.write(`you> ${line}\n`)
        yield line
        prompt()
        continue
      }
      if (closed) return
      await new Promise<void>((resolve) => {
        wake = resolve
      })
      wake = null
    }
  } finally {
    rl.close()
  }
}

if (import.meta.main) {
  process.exitCode = await runSimCli(process.argv.slice(2))
}
