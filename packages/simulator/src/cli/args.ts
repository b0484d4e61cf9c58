/**
 * @module cli/args
 * The simulator's command line parsed: which command, with which flags. Every mistake is one
 * {@link UsageError} line.
 */

/** A bad command line: the message is one line, the exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError'
}

/** `serve`: where to listen, as which project, how fast simulated time runs. */
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
