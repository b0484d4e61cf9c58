/**
 * @module cli/sender
 * How `send` and `chat` deliver a phone user's message: to a webhook URL through an in-process
 * simulator, or to a running simulator's control API.
 */
import { generateSecret, WEBHOOK_PORTS } from '@telehook/protocol'
import type { IncomingMessageInput, IncomingOutcome } from '../incoming.ts'
import { createSimulator } from '../simulator.ts'
import type { MessageArgs } from './args.ts'
import type { CliIo } from './io.ts'

/** Sends one message through an in-process simulator or a running one. */
type Sender = (content: string) => Promise<IncomingOutcome>

/**
 * The sender for `args`: with `--sim`, a POST to that simulator's `/_sim/incoming`; with `--url`,
 * an in-process simulator with one service for that URL (noting a port Telerivet would refuse).
 */
export async function makeSender(
  args: MessageArgs,
  io: CliIo,
): Promise<{ send: Sender; close(): void }> {
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
