// Baseline: naive Bun.serve + postgres.js, one INSERT … ON CONFLICT DO NOTHING per request after a
// constant-time secret check. Env: PORT, DATABASE_URL, SECRET.
import { timingSafeEqual } from 'node:crypto'
import postgres from 'postgres'

const env = process.env
const sql = postgres(env.DATABASE_URL as string, { max: 10, onnotice: () => {} })
await sql`create table if not exists bench_events (
  id text primary key, payload jsonb not null, received_at timestamptz not null default now())`
const expected = Buffer.from(env.SECRET as string)

Bun.serve({
  port: Number(env.PORT),
  hostname: '127.0.0.1',
  async fetch(req) {
    if (req.method !== 'POST') return new Response(null, { status: 404 })
    const form = new URLSearchParams(await req.text())
    const given = Buffer.from(form.get('secret') ?? '')
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      return new Response('Invalid webhook secret', { status: 403 })
    }
    form.delete('secret')
    const payload = Object.fromEntries(form)
    try {
      await sql`insert into bench_events (id, payload)
        values (${payload.id ?? ''}, ${sql.json(payload)}) on conflict do nothing`
      return new Response(null, { status: 200 })
    } catch {
      return new Response(null, { status: 503 })
    }
  },
})
console.log('ready')
