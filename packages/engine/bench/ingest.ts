/**
 * @module Engine-level ingestion benchmark: durable stores of distinct `incoming_message`
 * deliveries at a fixed concurrency, on PGlite and on PostgreSQL. Reported, never asserted.
 * Usage: bun bench/ingest.ts [total=2000] [concurrency=50]
 */
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { defineHandlers, reply } from '@telehook/protocol'
import { incomingMessage, SECRET } from '../src/fixtures'
import { createEndpoint, createEngine } from '../src/index'

const total = Number(process.argv[2] ?? 2000)
const concurrency = Number(process.argv[3] ?? 50)
const warmup = 300
const handlers = defineHandlers({
  sync: {
    incoming_message: (m) =>
      reply()
        .message({ content: `got ${m.id}` })
        .build(),
  },
  async: { incoming_message: async () => {} },
})

const modes = [
  { name: 'per-request tx', batch: false },
  { name: 'group commit', batch: {} },
] as const

for (const driver of TEST_DRIVERS)
  for (const mode of modes) {
    const database = await openTestDb(driver)
    try {
      const engine = createEngine({
        database,
        handlers,
        batch: mode.batch,
      })
      const endpoint = await createEndpoint(database, { kind: 'service', secret: SECRET })
      const forms = Array.from({ length: total + warmup }, (_, i) => incomingMessage(`BENCH${i}`))
      // Warm-up: JIT (PGlite's WebAssembly too) and the connection pool.
      await Promise.all(forms.slice(0, warmup).map((f) => engine.ingest(endpoint, f)))
      const latencies: number[] = []
      let next = warmup
      const started = performance.now()
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < total + warmup) {
            const f = forms[next++]
            if (!f) break
            const t = performance.now()
            await engine.ingest(endpoint, f)
            latencies.push(performance.now() - t)
          }
        }),
      )
      const seconds = (performance.now() - started) / 1000
      latencies.sort((a, b) => a - b)
      const pct = (p: number) =>
        latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? 0
      console.log(
        `${driver.padEnd(8)} ${mode.name.padEnd(14)} ${latencies.length} ingests @${concurrency}: ${(latencies.length / seconds).toFixed(0)}/s  p50 ${pct(0.5).toFixed(1)} ms  p99 ${pct(0.99).toFixed(1)} ms`,
      )
    } finally {
      await database.drop()
    }
  }
