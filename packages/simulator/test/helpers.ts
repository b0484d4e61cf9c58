/** @module test/helpers — receivers for the simulator's webhooks, in memory or on a real socket. */
import { type FormObject, parseForm } from '@telehook/protocol'
import type { FetchFn } from '../src/delivery.ts'

/** One webhook request as a receiver saw it. */
export interface Received {
  url: string
  body: string
  form: FormObject
}

type Answer = (r: Received) => Response | Promise<Response>

/** A fetch that answers in memory; records every request. */
export function memoryReceiver(answer: Answer = () => new Response('')) {
  const seen: Received[] = []
  const fetch: FetchFn = async (url, init) => {
    const body = String(init.body ?? '')
    const r: Received = { url, body, form: parseForm(body) }
    seen.push(r)
    return answer(r)
  }
  return { fetch, seen, events: (name: string) => seen.filter((r) => r.form.event === name) }
}

/** A real HTTP receiver on a free port (Bun.serve); `answer` decides each response. */
export function socketReceiver(answer: Answer = () => new Response('')) {
  const seen: Received[] = []
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(req) {
      const body = await req.text()
      const r: Received = { url: req.url, body, form: parseForm(body) }
      seen.push(r)
      return answer(r)
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    seen,
    stop: () => server.stop(true),
  }
}

/** The reply a webhook sends, as a JSON response. */
export function reply(body: unknown): Response {
  return Response.json(body)
}
