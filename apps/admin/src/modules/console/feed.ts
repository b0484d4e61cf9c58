/**
 * @module The live log's source: one poller per admin app reads the events stored since it last
 * looked and hands them to every open stream. Polling (not NOTIFY) sees events written by any
 * instance on either driver. `received_at` is the time a transaction began, so a batch may commit
 * with times a little older than rows already seen: each poll looks back {@link LOOKBACK_MS} and
 * skips the ids it has sent.
 */
import type { Database } from '@telehook/db'
import type { Logger } from '@telehook/engine'
import { type EventRecord, eventsSince } from './queries'

export const LOOKBACK_MS = 5_000

type Listener = (rows: EventRecord[]) => void

export interface EventFeed {
  subscribe(listener: Listener): () => void
  /** Polls once (tests; the timer calls it while anyone listens). */
  poll(): Promise<void>
}

export function createEventFeed(database: Database, logger: Logger, pollMs = 1000): EventFeed {
  const listeners = new Set<Listener>()
  const sent = new Map<string, number>()
  let watermark = Date.now()
  let timer: ReturnType<typeof setInterval> | null = null
  let polling = false

  async function poll(): Promise<void> {
    if (polling) return
    polling = true
    try {
      const rows = await eventsSince(database, watermark - LOOKBACK_MS)
      const fresh = rows.filter((r) => !sent.has(r.id))
      for (const r of rows) {
        const at = r.receivedAt.getTime()
        sent.set(r.id, at)
        if (at > watermark) watermark = at
      }
      for (const [id, at] of sent) if (at < watermark - 2 * LOOKBACK_MS) sent.delete(id)
      if (fresh.length > 0) for (const l of listeners) l(fresh)
    } catch (error) {
      logger.warn({
        msg: 'console live log poll failed',
        error: error instanceof Error ? error.message : String(error),
      })
    } finally {
      polling = false
    }
  }

  return {
    subscribe(listener) {
      listeners.add(listener)
      if (!timer) {
        // Nothing older than now is news to a new stream: the page it sits on shows those rows.
        watermark = Math.max(watermark, Date.now() - LOOKBACK_MS)
        timer = setInterval(() => void poll(), pollMs)
      }
      return () => {
        listeners.delete(listener)
        if (listeners.size === 0 && timer) {
          clearInterval(timer)
          timer = null
        }
      }
    },
    poll,
  }
}

/**
 * A `text/event-stream` response: each new event that passes `accept` is sent as one `delivery`
 * message whose data is `render(row)` on one line; a comment every few seconds keeps idle
 * connections open through proxies and Bun's idle timeout.
 */
export function eventStream(
  feed: EventFeed,
  accept: (row: EventRecord) => boolean,
  render: (row: EventRecord) => string,
  signal: AbortSignal,
): Response {
  const encoder = new TextEncoder()
  let stop = () => {}
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (text: string) => {
        try {
          controller.enqueue(encoder.encode(text))
        } catch {
          stop()
        }
      }
      send('retry: 2000\n: connected\n\n')
      const unsubscribe = feed.subscribe((rows) => {
        for (const row of rows) {
          if (accept(row)) send(`event: delivery\ndata: ${render(row).replace(/\n/g, ' ')}\n\n`)
        }
      })
      const ping = setInterval(() => send(': ping\n\n'), 5_000)
      stop = () => {
        clearInterval(ping)
        unsubscribe()
      }
      signal.addEventListener('abort', () => {
        stop()
        try {
          controller.close()
        } catch {}
      })
    },
    cancel() {
      stop()
    },
  })
  return new Response(stream, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    },
  })
}
