/**
 * @module Duplicate storm: every one of a set of distinct events (incoming messages, three
 * statuses of each outgoing message, two updates of each contact, message metadata, broadcasts)
 * is delivered 100 times, all shuffled together and posted at high concurrency. Afterwards there
 * is exactly one event row per distinct event, its `delivery_count`s add up to the deliveries, all
 * copies of one event got the same reply, and the mirror tables equal those of a one-at-a-time
 * run of the distinct events on a fresh database.
 */
import {
  contactUpdateWire,
  messageMetadataWire,
  sendBroadcastWire,
  sendStatusWire,
  toBody,
} from '@telehook/protocol/fixtures'
import {
  type Answer,
  DRILL_SECRET,
  type DrillDatabase,
  type DrillOptions,
  type DrillReport,
  deliver,
  freshDatabase,
  incomingBody,
  killAll,
  newId,
  pool,
  quantile,
  Report,
  rawRows,
  rssKb,
  serve,
  shuffle,
  statusCounts,
} from './harness'

const SIZES = {
  // 100 distinct events × 100 copies = 10 000 deliveries.
  ci: { groups: 10, copies: 100, concurrency: 64 },
  long: { groups: 50, copies: 100, concurrency: 200 },
} as const

interface StormEvent {
  key: string
  body: string
}

/**
 * `groups` × 10 distinct events: 3 incoming messages, one outgoing message's queued → sent →
 * delivered statuses (3), one contact's two updates (2), 1 message_metadata, 1 broadcast.
 * Fields that two events of one row both set carry the same values, or an order the projections
 * resolve (status rank, contact `time_updated`), so the mirror does not depend on arrival order.
 */
export function stormEvents(groups: number): StormEvent[] {
  const out: StormEvent[] = []
  for (let g = 0; g < groups; g++) {
    for (let i = 0; i < 3; i++) {
      const id = newId('SM')
      out.push({ key: `incoming_message:${id}`, body: incomingBody(id) })
    }
    const outgoing = newId('SM')
    for (const status of ['queued', 'sent', 'delivered']) {
      out.push({
        key: `send_status:${outgoing}:${status}`,
        body: toBody(sendStatusWire(status, { id: outgoing, secret: DRILL_SECRET })),
      })
    }
    const contact = newId('CT')
    for (const [n, name] of ['Ada', 'Grace'].entries()) {
      out.push({
        key: `contact_update:${contact}:${n}`,
        body: toBody(
          contactUpdateWire('update', {
            id: contact,
            name,
            time_updated: String(1_700_000_000 + n * 60),
            secret: DRILL_SECRET,
          }),
        ),
      })
    }
    const starred = newId('SM')
    out.push({
      key: `message_metadata:${starred}`,
      body: toBody(messageMetadataWire('star', { id: starred, secret: DRILL_SECRET })),
    })
    const broadcast = newId('BC')
    out.push({
      key: `send_broadcast:${broadcast}`,
      body: toBody(sendBroadcastWire({ id: broadcast, secret: DRILL_SECRET })),
    })
  }
  return out
}

/** Columns that name a run rather than the data: generated ids and clock times. */
const MIRRORS: Record<string, string[]> = {
  events: ['id', 'received_at', 'last_received_at', 'delivery_count'],
  messages: ['created_at', 'updated_at', 'last_event_id'],
  message_status_history: ['id', 'event_id', 'received_at'],
  contacts: ['created_at', 'updated_at', 'last_event_id'],
  broadcasts: ['created_at', 'updated_at', 'last_event_id'],
}

/** Each mirror table as canonical JSON text (rows sorted, run-specific columns removed). */
export async function dumpMirrors(database: DrillDatabase): Promise<Record<string, string>> {
  return database.withDb(async (open) => {
    const out: Record<string, string> = {}
    for (const [table, drop] of Object.entries(MIRRORS)) {
      const rows = await rawRows<{ dump: string }>(
        open,
        `select coalesce(jsonb_agg(x order by x::text), '[]'::jsonb)::text as dump
         from (select to_jsonb(t) - '{${drop.join(',')}}'::text[] as x from telehook.${table} t) s`,
      )
      out[table] = rows[0]?.dump ?? ''
    }
    return out
  })
}

export async function run(opts: DrillOptions): Promise<DrillReport> {
  const size = SIZES[opts.size]
  const report = new Report('storm', opts.driver)
  const storm = await freshDatabase(opts.driver)
  const reference = await freshDatabase(opts.driver)
  try {
    const events = stormEvents(size.groups)
    const deliveries = shuffle(events.flatMap((e) => Array.from({ length: size.copies }, () => e)))

    // The one-at-a-time run: each distinct event once, in another random order.
    const refServer = await serve(reference)
    const refReplies = new Map<string, string>()
    for (const e of shuffle([...events])) {
      const answer = await deliver(refServer.hook, e.body)
      if (!report.check(answer.status === 200, `reference run: ${e.key} got ${answer.status}`))
        break
      refReplies.set(e.key, answer.body)
    }
    report.check(
      (await refServer.stop()) === 0,
      'the reference server did not exit cleanly on SIGTERM',
    )

    const server = await serve(storm)
    const rssBefore = await rssKb(server.pid)
    const replies = new Map<string, Set<string>>()
    const answers: Answer[] = []
    const started = performance.now()
    await pool(deliveries, size.concurrency, async (e) => {
      const answer = await deliver(server.hook, e.body)
      answers.push(answer)
      if (answer.status !== 200) return
      const set = replies.get(e.key) ?? new Set<string>()
      replies.set(e.key, set)
      set.add(answer.body)
    })
    const seconds = (performance.now() - started) / 1000
    const rssAfter = await rssKb(server.pid)
    report.check((await server.stop()) === 0, 'the storm server did not exit cleanly on SIGTERM')

    const [totals] = await storm.query<{ rows: number; deliveries: number }>(
      `select count(*)::int as rows, coalesce(sum(delivery_count), 0)::int as deliveries
       from telehook.events`,
    )
    const perEvent = await storm.query<{ n: number; c: number }>(
      `select count(*)::int as n, delivery_count as c from telehook.events group by delivery_count`,
    )
    const oks = answers.filter((a) => a.status === 200).length
    const manyReplies = [...replies.entries()].filter(([, set]) => set.size !== 1)
    const refDiffers = [...replies.entries()].filter(
      ([key, set]) => set.size === 1 && refReplies.has(key) && !set.has(refReplies.get(key) ?? ''),
    )
    const repliedWithContent = [...replies.values()].filter((s) => [...s][0] !== '').length

    const [stormMirror, refMirror] = [await dumpMirrors(storm), await dumpMirrors(reference)]
    const differing = Object.keys(MIRRORS).filter((t) => stormMirror[t] !== refMirror[t])
    const emptyMirrors = Object.keys(MIRRORS).filter((t) => (stormMirror[t] ?? '[]') === '[]')

    report
      .figure('distinct', events.length)
      .figure('deliveries', deliveries.length)
      .figure('concurrency', size.concurrency)
      .figure('statuses', statusCounts(answers))
      .figure('rows', totals?.rows ?? 0)
      .figure('delivery_count_sum', totals?.deliveries ?? 0)
      .figure('replies_per_event_max', Math.max(0, ...[...replies.values()].map((s) => s.size)))
      .figure('events_with_reply', repliedWithContent)
      .figure(
        'mirror_tables_equal',
        `${Object.keys(MIRRORS).length - differing.length}/${Object.keys(MIRRORS).length}`,
      )
      .figure('per_s', Math.round(deliveries.length / seconds))
      .figure(
        'p99_ms',
        Math.round(
          quantile(
            answers.map((a) => a.ms),
            0.99,
          ),
        ),
      )
      .figure('rss_mb_before', Math.round(rssBefore / 1024))
      .figure('rss_mb_after', Math.round(rssAfter / 1024))
    report.check(
      oks === deliveries.length,
      `${deliveries.length - oks} deliveries not answered 200`,
    )
    report.check(
      totals?.rows === events.length,
      `${totals?.rows} event rows for ${events.length} distinct events`,
    )
    report.check(
      totals?.deliveries === deliveries.length,
      `delivery_count adds up to ${totals?.deliveries}, not ${deliveries.length}`,
    )
    report.check(
      perEvent.length === 1 && perEvent[0]?.c === size.copies,
      `delivery_count per event: ${perEvent.map((p) => `${p.n}×${p.c}`).join(' ')}`,
    )
    report.check(
      manyReplies.length === 0,
      `events answered with different replies: ${manyReplies
        .slice(0, 3)
        .map(([k]) => k)
        .join(', ')}`,
    )
    report.check(
      refDiffers.length === 0,
      `replies differ from the one-at-a-time run: ${refDiffers
        .slice(0, 3)
        .map(([k]) => k)
        .join(', ')}`,
    )
    report.check(emptyMirrors.length === 0, `mirror tables left empty: ${emptyMirrors.join(', ')}`)
    report.check(
      differing.length === 0,
      `mirror tables differ from the one-at-a-time run: ${differing.join(', ')}`,
    )
    return report.done()
  } catch (error) {
    report.problem(`drill aborted: ${(error as Error).message.slice(0, 500)}`)
    return report.done()
  } finally {
    await killAll()
    await storm.cleanup()
    await reference.cleanup()
  }
}
