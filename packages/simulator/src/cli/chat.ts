/**
 * @module cli/chat
 * `chat`: the user is the phone user; each line they type is an incoming message, and the
 * replies print as SMS. A runtime file: it reads the terminal.
 */
import { createInterface } from 'node:readline'
import type { MessageArgs } from './args.ts'
import type { CliIo } from './io.ts'
import { describeOutcome, taken } from './outcome.ts'
import { makeSender } from './sender.ts'

/** Chats until `/quit`, `/exit` or the end of input; 1 when a message was not taken, else 0. */
export async function chatCommand(args: MessageArgs, io: CliIo): Promise<number> {
  const { send, close } = await makeSender(args, io)
  try {
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
        if (!taken(outcome)) failed = true
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
