/**
 * @module Engine-level ingestion benchmark: durable stores of distinct `incoming_message`
 * deliveries at a fixed concurrency, on PGlite and on PostgreSQL. Reported, never asserted.
 * Modes: the reference path (what the batch statement replaced), the batch statement with one
 * delivery per transaction, and with group commit (the default).
 * Usage: bun bench/ingest.ts [total=2000] [concurrency=50]
 */
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { defineHandlers, reply } from '@telehook/protocol'
import { incomingMessage, SECRET } from '../src/fixtures'
import { createEndpoint, createEngine, type Engine, type IngestResult } from '../src/index'
import { asyncHandlerTypes, prepare } from '../src/ingest'
import { storeReference } from '../src/reference'

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
  { name: 'reference', batch: 'reference' },
  { name: 'per-request tx', batch: false },
  { name: 'group commit', batch: {} },
] as const

/**
 * The reference path as an engine: the code the batch statement replaced (one transaction per
 * delivery, one Drizzle statement per table, sync handler after a stored check).
 */
function referenceEngine(database: Awaited<ReturnType<typeof openTestDb>>): Pick<Engine, 'ingest'> {
  const types = asyncHandlerTypes(handlers)
  return {
    async ingest(endpoint, form): Promise<IngestResult> {
      const p = await prepare(endpoint, form)
      const r = p.decoded.ok
        ? ((handlers.sync?.incoming_message?.(p.decoded.event as never, {
            endpointId: endpoint.id,
            projectId: p.projectId,
            signal: new AbortController().signal,
          }) ?? null) as never)
        : null
      const s = await storeReference(
        database.db,
        { endpoint, prepared: p, reply: r, handlerError: null },
        types,
      )
      return { outcome: s.inserted ? 'stored' : 'duplicate' } as IngestResult
    },
  }
}

for (const driver of TEST_DRIVERS)
  for (const mode of modes) {
    const database = await openTestDb(driver)
    try {
      const engine =
        mode.batch === 'reference'
          ? referenceEngine(database)
          : createEngine({ database, handlers, batch: mode.batch })
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
