// Baseline: Express + body-parser + pg on Node, one INSERT … ON CONFLICT DO NOTHING per request
// after a constant-time secret check. Env: PORT, DATABASE_URL, SECRET.
import { timingSafeEqual } from 'node:crypto'
import bodyParser from 'body-parser'
import express from 'express'
import pg from 'pg'

const { PORT, DATABASE_URL, SECRET } = process.env
const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 })
await pool.query(`create table if not exists bench_events (
  id text primary key, payload jsonb not null, received_at timestamptz not null default now())`)
const expected = Buffer.from(SECRET)

const app = express()
app.use(bodyParser.urlencoded({ extended: true, limit: '256kb' }))
app.post('/webhook', async (req, res) => {
  const given = Buffer.from(String(req.body?.secret ?? ''))
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    res.status(403).send('Invalid webhook secret')
    return
  }
  const { secret: _, ...payload } = req.body
  try {
    await pool.query(
      'insert into bench_events (id, payload) values ($1, $2) on conflict do nothing',
      [String(payload.id), payload],
    )
    res.status(200).end()
  } catch {
    res.status(503).end()
  }
})
app.listen(Number(PORT), '127.0.0.1', () => console.log('ready'))
