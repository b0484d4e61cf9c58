import { expect, test } from 'bun:test'
import { decodeEvent } from './decode.ts'
import { sendStatusWire, toBody } from './fixtures.ts'
import { parseForm } from './form.ts'
import { defineHandlers, type HandlerContext } from './handlers.ts'
import { isValidReply, reply } from './reply.ts'

test('defineHandlers keeps the module as given, and each handler sees its own event type', async () => {
  const seen: string[] = []
  const handlers = defineHandlers({
    sync: {
      incoming_message: (m) =>
        reply()
          .message(`You said: ${m.content ?? ''}`)
          .build(),
      // @ts-expect-error a send_status handler does not get an incoming_message
      send_status: (s: { event: 'incoming_message' }) => void s,
    },
    async: {
      send_status: async (s, ctx) => {
        // typed: status is the send_status enumeration, attempt a number
        seen.push(`${s.status}:${ctx.attempt}`)
      },
    },
  })
  const ctx: HandlerContext = {
    endpointId: 'e',
    projectId: null,
    signal: new AbortController().signal,
  }
  const out = await handlers.sync?.incoming_message?.(
    { event: 'incoming_message', id: 'SM1', content: 'hi' },
    ctx,
  )
  expect(out).toEqual({ messages: [{ content: 'You said: hi' }] })
  expect(isValidReply(out)).toBe(true)

  const r = decodeEvent(parseForm(toBody(sendStatusWire('delivered'))))
  if (!r.ok || r.event.event !== 'send_status') throw new Error('fixture')
  await handlers.async?.send_status?.(r.event, {
    eventId: 'ev1',
    endpointId: 'e',
    attempt: 1,
    signal: new AbortController().signal,
  })
  expect(seen).toEqual(['delivered:1'])
})
