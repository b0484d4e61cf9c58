/** @module cli/send `send`: one incoming message, and what the webhook answered. */
import type { MessageArgs } from './args.ts'
import type { CliIo } from './io.ts'
import { describeOutcome, taken } from './outcome.ts'
import { makeSender } from './sender.ts'

/** Sends `args.text` and prints the reply in full; 0 when every webhook answered 200, else 1. */
export async function sendCommand(args: MessageArgs, io: CliIo): Promise<number> {
  const { send, close } = await makeSender(args, io)
  try {
    const outcome = await send(args.text as string)
    for (const l of describeOutcome(outcome, args.from, true)) io.out(l)
    return taken(outcome) ? 0 : 1
  } finally {
    close()
  }
}
