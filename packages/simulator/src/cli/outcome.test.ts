import { describe, expect, test } from 'bun:test'
import { memoryReceiver, reply } from '../../test/helpers.ts'
import { createSimulator } from '../simulator.ts'
import { describeOutcome, taken } from './outcome.ts'

const USER = '+16505550123'

/** The outcome of one incoming message `content`, answered by `answer` (no service: null). */
async function outcomeOf(content: string, answer: (() => Response) | null) {
  const rx = memoryReceiver(answer ?? undefined)
  const sim = createSimulator({ manualClock: true, fetch: rx.fetch })
  if (answer !== null) {
    sim.createService(sim.projectId, {
      service_type: 'incoming_message_webhook',
      config: { url: 'https://hooks.example/h', secret: 's' },
    })
  }
  const outcome = await sim.incomingMessage({ from_number: USER, content })
  sim.close()
  return outcome
}

describe('describeOutcome: what send and chat print', () => {
  test('replies as SMS (to the user, to another number, USSD), then the variables set', async () => {
    const outcome = await outcomeOf('hi', () =>
      reply({
        messages: [
          { content: 'echo' },
          { content: 'other', to_number: '+16505550000' },
          { content: '*1#', message_type: 'ussd' },
        ],
        variables: { 'contact.name': 'Ada', 'contact.vars.n': 3 },
      }),
    )
    expect(taken(outcome)).toBe(true)
    const chat = [
      'bot> echo',
      'bot → +16505550000> other',
      `bot (USSD ${USER})`,
      '  · contact.name = "Ada"',
      '  · contact.vars.n = 3',
    ]
    expect(describeOutcome(outcome, USER, false)).toEqual(chat)
    // send (verbose) puts the status and the raw reply first
    const [status, body, ...rest] = describeOutcome(outcome, USER, true)
    expect(status).toMatch(/^webhook SV\w+: HTTP 200$/)
    expect(body).toBe(`  reply: ${outcome.deliveries[0]?.reply_body}`)
    expect(rest).toEqual(chat)
  })

  test('a reply not acted upon, a Content-Type Telerivet does not ask for, an empty reply', async () => {
    const invalid = await outcomeOf('hi', () => reply({ messages: 'x' }))
    expect(describeOutcome(invalid, USER, false)).toEqual([
      '! reply not acted upon: /messages: Expected array',
    ])
    const plain = await outcomeOf(
      'hi',
      () =>
        new Response('{"messages":[{"content":"ok"}]}', {
          headers: { 'content-type': 'text/plain' },
        }),
    )
    expect(describeOutcome(plain, USER, false)).toEqual([
      '! note: the reply has Content-Type text/plain; Telerivet asks for application/json',
      'bot> ok',
    ])
    const empty = await outcomeOf('hi', () => new Response(''))
    expect(describeOutcome(empty, USER, true).slice(1)).toEqual(['  reply: (empty)'])
    expect(taken(empty)).toBe(true)
  })

  test('a webhook that failed: its status, and its body cut at 300 characters', async () => {
    const outcome = await outcomeOf('hi', () => new Response('x'.repeat(400), { status: 500 }))
    expect(taken(outcome)).toBe(false)
    const lines = describeOutcome(outcome, USER, true)
    expect(lines).toHaveLength(2)
    expect(lines[0]).toMatch(/^! webhook SV\w+: HTTP 500 \(Telerivet would retry it later\)$/)
    expect(lines[1]).toBe(`  body: ${'x'.repeat(300)}…`)
  })

  test('no service took the message', async () => {
    const outcome = await outcomeOf('hi', null)
    expect(taken(outcome)).toBe(false)
    expect(describeOutcome(outcome, USER, true)).toEqual([
      '(no active incoming_message_webhook service took the message)',
    ])
  })
})
