/**
 * The hot path against the reference path: one shuffled stream of mixed deliveries, sent
 * concurrently through the engine (batch statements, group commit) and one at a time through the
 * reference (one Drizzle statement per table, one transaction per delivery), must leave the same
 * events, mirror rows, history and jobs, and give every copy of a delivery the same reply bytes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { type Database, projects, queryRows } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { defineHandlers, type FormObject, reply, type WebhookReply } from '@telehook/protocol'
import { sql } from 'drizzle-orm'
import { form } from './fixtures'
import { createEndpoint, createEngine, type Endpoint, type IngestResult } from './index'
import { asyncHandlerTypes, prepare } from './ingest'
import { storeReference } from './reference'

/** Deliveries before copies are added (about 10 % more are copies). */
const EVENTS = 2400

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number) {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

interface Delivery {
  endpoint: 'a' | 'b' | 'single'
  fields: Record<string, unknown>
}

/**
 * The stream. Fields that would make the result depend on arrival order between concurrent
 * deliveries (two values of one descriptive field for one message or contact) are kept
 * consistent per object, as Telerivet sends them; what does depend on order (status precedence,
 * time_updated, first click, vars merged) is exercised by out-of-order arrivals.
 */
function stream(seed: number): Delivery[] {
  const rnd = random(seed)
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T
  const out: Delivery[] = []
  const t0 = 1_760_000_000
  const endpointOf = (project: string): Delivery['endpoint'] =>
    project === 'PJA' ? (rnd() < 0.8 ? 'a' : 'single') : 'b'
  const contact = (project: string, n: number) => ({
    id: `CT${n}`,
    name: `Name ${project} ${n}`,
    phone_number: `+1555${String(n).padStart(6, '0')}`,
    vars: { n: String(n) },
    message_count: n % 7,
  })
  let i = 0
  while (out.length < EVENTS) {
    i++
    const project = rnd() < 0.6 ? 'PJA' : 'PJB'
    const r = rnd()
    if (r < 0.3) {
      // An incoming message from one of a few contacts, sometimes with metadata later.
      const c = contact(project, Math.floor(rnd() * 60))
      const id = `SMI${i}`
      out.push({
        endpoint: endpointOf(project),
        fields: {
          event: 'incoming_message',
          id,
          project_id: project,
          content: `hello ${i}`,
          from_number: c.phone_number,
          to_number: '+15550000000',
          time_created: t0 + i,
          contact_id: c.id,
          phone_id: 'PN1',
          message_type: 'sms',
          contact: { name: c.name, vars: c.vars, message_count: c.message_count },
        },
      })
      if (rnd() < 0.3) {
        out.push({
          endpoint: endpointOf(project),
          fields: {
            event: 'message_metadata',
            id,
            project_id: project,
            update_type: 'star',
            starred: rnd() < 0.5 ? 1 : 0,
            label_ids: rnd() < 0.5 ? ['LB1'] : [],
            vars: { meta: String(i) },
          },
        })
      }
    } else if (r < 0.7) {
      // An outgoing message: its statuses, out of order, maybe a click.
      const id = `SMO${Math.floor(rnd() * 400)}`
      const end = rnd() < 0.8 ? 'delivered' : 'failed'
      const statuses = ['queued', 'sent', end].filter(() => rnd() < 0.8)
      const base = Number(id.slice(3))
      for (const status of statuses) {
        out.push({
          endpoint: endpointOf(project),
          fields: {
            event: 'send_status',
            id,
            project_id: project,
            status,
            content: `out ${base}`,
            from_number: '+15550000000',
            to_number: `+1666${base}`,
            time_created: t0 + base,
            ...(status === 'queued' ? {} : { time_sent: t0 + base + 1 }),
            ...(status === 'failed' ? { error_message: 'route down' } : {}),
            ...(rnd() < 0.1 ? { time_clicked: t0 + base + Math.floor(rnd() * 100) } : {}),
            contact_id: `CT${base % 60}`,
          },
        })
      }
    } else if (r < 0.85) {
      // A contact update: the full state at a time; older ones must lose whatever the order.
      const n = Math.floor(rnd() * 60)
      const c = contact(project, n)
      const update = pick(['add', 'update', 'add_group', 'block_send', 'unblock_send', 'delete'])
      out.push({
        endpoint: endpointOf(project),
        fields: {
          event: 'contact_update',
          id: c.id,
          project_id: project,
          update_type: update,
          name: c.name,
          phone_number: c.phone_number,
          vars: c.vars,
          group_ids: rnd() < 0.5 ? ['CG1'] : ['CG1', `CG${i}`],
          message_count: c.message_count,
          time_created: t0,
          time_updated: t0 + i,
        },
      })
    } else if (r < 0.93) {
      const n = Math.floor(rnd() * 50)
      out.push({
        endpoint: endpointOf(project),
        fields: {
          event: 'send_broadcast',
          id: `BC${n}`,
          project_id: project,
          content: `broadcast ${n}`,
          recipients_str: 'Group',
          estimated_count: n,
          time_created: t0 + n,
        },
      })
    } else if (r < 0.96) {
      // Another project's payload at A's endpoint: stored flagged, mirror untouched.
      out.push({
        endpoint: 'a',
        fields: {
          event: 'send_status',
          id: `SMO${Math.floor(rnd() * 400)}`,
          project_id: 'PJB',
          status: 'read',
          content: 'forged',
        },
      })
    } else if (r < 0.98) {
      out.push({
        endpoint: endpointOf(project),
        fields: { event: 'incoming_message', id: `SMX${i}`, time_created: 'yesterday' },
      })
    } else {
      out.push({ endpoint: endpointOf(project), fields: { event: 'future_thing', id: `F${i}` } })
    }
  }
  // Shuffle, then add copies (about 10 %): some right after their original (same batch), some
  // anywhere after it.
  for (let k = out.length - 1; k > 0; k--) {
    const j = Math.floor(rnd() * (k + 1))
    ;[out[k], out[j]] = [out[j] as Delivery, out[k] as Delivery]
  }
  const withCopies: Delivery[] = []
  for (const d of out) {
    withCopies.push(d)
    if (rnd() < 0.05) withCopies.push(d)
    if (rnd() < 0.05) {
      const at = withCopies.length + Math.floor(rnd() * 200)
      withCopies.splice(Math.min(at, withCopies.length), 0, d)
    }
  }
  return withCopies
}

function handlersWithSeq() {
  let seq = 0
  return defineHandlers({
    sync: {
      // `$seq` differs between two runs of the handler: a copy answered with its own reply
      // instead of the stored one would show.
      incoming_message: (m) =>
        reply()
          .message({ content: `Hi ${m.contact?.name ?? 'you'}`, to_number: m.from_number })
          .variable('$seq', ++seq)
          .variable('state.id', 'asked')
          .build(),
    },
    async: { incoming_message: async () => {}, send_status: async () => {} },
  })
}

const withoutSeq = (r: unknown) => {
  if (r === null || typeof r !== 'object') return r
  const copy = JSON.parse(JSON.stringify(r)) as { variables?: Record<string, unknown> }
  delete copy.variables?.$seq
  return copy
}

async function setUp(database: Database): Promise<Record<Delivery['endpoint'], Endpoint>> {
  await database.db.insert(projects).values([
    { id: 'PJA', name: 'A' },
    { id: 'PJB', name: 'B' },
  ])
  return {
    a: await createEndpoint(database, {
      id: 'ep-a',
      kind: 'project',
      projectId: 'PJA',
      secret: 'a',
    }),
    b: await createEndpoint(database, {
      id: 'ep-b',
      kind: 'project',
      projectId: 'PJB',
      secret: 'b',
    }),
    single: await createEndpoint(database, { id: 'default', kind: 'single', secret: 's' }),
  }
}

/** Everything but arrival-order columns (ids, times of receipt, last_event_id, …), sorted. */
async function contents(database: Database) {
  const q = (text: string) => queryRows<Record<string, unknown>>(database.db, sql.raw(text))
  const events = await q(`select endpoint_id, dedupe_key, project_id, event, telerivet_id,
      payload, reply, valid, errors, handler_error, flag, delivery_count
    from telehook.events order by endpoint_id, dedupe_key`)
  for (const e of events) e.reply = withoutSeq(e.reply)
  const messages = await q(`select project_id, id, direction, message_type, status, source,
      from_number, to_number, content, contact_id, phone_id, route_id, service_id, broadcast_id,
      time_created::text, time_sent::text, time_updated::text, time_clicked::text, error_message,
      starred, label_ids, vars, in_progress, media
    from telehook.messages order by project_id, id`)
  const history = await q(`select h.project_id, h.message_id, h.status, h.error_message,
      h.time_clicked::text, h.time_sent::text, e.endpoint_id, e.dedupe_key
    from telehook.message_status_history h join telehook.events e on e.id = h.event_id
    order by 1, 2, 7, 8`)
  const contacts = await q(`select project_id, id, name, phone_number, send_blocked, deleted,
      group_ids, vars, conversation_status, message_count, time_created::text,
      time_updated::text, last_update_type
    from telehook.contacts order by project_id, id`)
  const broadcasts = await q(`select project_id, id, title, content, message_type, status,
      source, recipients_str, recipients, estimated_count, route_id, service_id, user_id,
      user_name, user_email, time_created::text, vars
    from telehook.broadcasts order by project_id, id`)
  const jobs = await q(`select e.endpoint_id, e.dedupe_key, j.handler, j.status
    from telehook.jobs j join telehook.events e on e.id = j.event_id order by 1, 2, 3`)
  return { events, messages, history, contacts, broadcasts, jobs }
}

for (const driver of TEST_DRIVERS) {
  describe(`differential on ${driver}`, () => {
    let hot: Awaited<ReturnType<typeof openTestDb>>
    let ref: Awaited<ReturnType<typeof openTestDb>>
    beforeAll(async () => {
      hot = await openTestDb(driver)
      ref = await openTestDb(driver)
    })
    afterAll(async () => {
      await hot?.drop()
      await ref?.drop()
    })

    test('a shuffled stream: concurrent batches = one at a time, replies byte-identical', async () => {
      const deliveries = stream(20261130)
      const forms: FormObject[] = deliveries.map((d) => form(d.fields))

      // The hot path: everything at once through the engine (group commit, waves, copies).
      const hotEndpoints = await setUp(hot)
      const engine = createEngine({ database: hot, handlers: handlersWithSeq() })
      // 200 in flight at a time, as from 200 connections.
      const results: IngestResult[] = []
      let next = 0
      const lane = async () => {
        while (next < deliveries.length) {
          const i = next++
          const d = deliveries[i] as Delivery
          results[i] = await engine.ingest(hotEndpoints[d.endpoint], forms[i] as FormObject)
        }
      }
      await Promise.all(Array.from({ length: 200 }, lane))
      expect(engine.batchStats?.batches ?? 0).toBeGreaterThan(0)

      // The reference: one delivery per transaction, in stream order.
      const refEndpoints = await setUp(ref)
      const refHandlers = handlersWithSeq()
      const asyncTypes = asyncHandlerTypes(refHandlers)
      for (const [i, d] of deliveries.entries()) {
        const endpoint = refEndpoints[d.endpoint]
        const p = await prepare(endpoint, forms[i] as FormObject)
        let r: WebhookReply | null = null
        if (p.decoded.ok && p.flag === null && p.decoded.event.event === 'incoming_message') {
          const seen = await queryRows(
            ref.db,
            sql`select 1 from telehook.events where endpoint_id = ${endpoint.id} and dedupe_key = ${p.dedupeKey}`,
          )
          if (seen.length === 0) {
            r = (refHandlers.sync?.incoming_message?.(p.decoded.event as never, {
              endpointId: endpoint.id,
              projectId: p.projectId,
              signal: new AbortController().signal,
            }) ?? null) as WebhookReply | null
          }
        }
        await storeReference(
          ref.db,
          { endpoint, prepared: p, reply: r, handlerError: null },
          asyncTypes,
        )
      }

      // Every copy of a delivery got the stored reply, byte for byte.
      const stored = await queryRows<{ endpoint_id: string; dedupe_key: string; reply: unknown }>(
        hot.db,
        sql`select endpoint_id, dedupe_key, reply from telehook.events`,
      )
      const storedReply = new Map(
        stored.map((s) => [`${s.endpoint_id} ${s.dedupe_key}`, JSON.stringify(s.reply)]),
      )
      let copies = 0
      const firstOutcome = new Map<string, number>()
      for (const [i, res] of results.entries()) {
        const d = deliveries[i] as Delivery
        const key = `${hotEndpoints[d.endpoint].id} ${(await prepare(hotEndpoints[d.endpoint], forms[i] as FormObject)).dedupeKey}`
        expect(JSON.stringify(res.reply)).toBe(storedReply.get(key) as string)
        firstOutcome.set(key, (firstOutcome.get(key) ?? 0) + (res.outcome === 'stored' ? 1 : 0))
        if (res.outcome === 'duplicate') copies++
      }
      expect([...firstOutcome.values()].every((n) => n === 1)).toBe(true)
      expect(copies).toBeGreaterThan(deliveries.length * 0.05)

      const [a, b] = [await contents(hot), await contents(ref)]
      expect(a.events.length).toBe(b.events.length)
      expect(a.events).toEqual(b.events)
      expect(a.messages).toEqual(b.messages)
      expect(a.history).toEqual(b.history)
      expect(a.contacts).toEqual(b.contacts)
      expect(a.broadcasts).toEqual(b.broadcasts)
      expect(a.jobs).toEqual(b.jobs)
      // The stream did reach every table.
      for (const rows of Object.values(a)) expect(rows.length).toBeGreaterThan(10)
    }, 300_000)
  })
}
