/** @module cli/outcome What the webhook did with a message, as `send` and `chat` print it. */
import type { IncomingOutcome } from '../incoming.ts'
import type { Message } from '../model.ts'

/** Whether the message was taken: some webhook had it, and every one that did answered 200. */
export function taken(outcome: IncomingOutcome): boolean {
  return outcome.deliveries.length > 0 && outcome.deliveries.every((d) => d.ok)
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
