/// <reference lib="deno.ns" />
/** @module Deno smoke test: the client runs on Deno's fetch against a Deno.serve stand-in. */
import { createTelerivetClient, isNotFound } from '../../src/index.ts'

function assertEquals(actual: unknown, expected: unknown) {
  const a = JSON.stringify(actual)
  const e = JSON.stringify(expected)
  if (a !== e) throw new Error(`expected ${e}, got ${a}`)
}

Deno.test('telerivet-api client on Deno: auth, JSON, typed errors, paging', async () => {
  const ac = new AbortController()
  const server = Deno.serve(
    { port: 0, hostname: '127.0.0.1', signal: ac.signal, onListen() {} },
    (req) => {
      const url = new URL(req.url)
      if (req.headers.get('authorization') !== `Basic ${btoa('k:')}`) {
        return Response.json({ error: { code: 'unauthorized', message: 'no' } }, { status: 401 })
      }
      if (url.pathname === '/v1/projects/PJ1') return Response.json({ id: 'PJ1', name: 'P' })
      if (url.pathname === '/v1/projects/PJ1/services') {
        const m = url.searchParams.get('marker')
        return Response.json(
          m
            ? { data: [{ id: 'SV2' }], truncated: false }
            : { data: [{ id: 'SV1' }], truncated: true, next_marker: 'n' },
        )
      }
      return Response.json({ error: { code: 'not_found', message: 'gone' } }, { status: 404 })
    },
  )
  try {
    const tr = createTelerivetClient({
      apiKey: 'k',
      baseUrl: `http://127.0.0.1:${server.addr.port}/v1`,
    })
    assertEquals(await tr.getProject('PJ1'), { id: 'PJ1', name: 'P' })
    const ids: string[] = []
    for await (const s of tr.queryServices('PJ1')) ids.push(s.id)
    assertEquals(ids, ['SV1', 'SV2'])
    const err = await tr.getService('PJ1', 'SVx').catch((e) => e)
    assertEquals(isNotFound(err), true)
  } finally {
    ac.abort()
    await server.finished
  }
})
