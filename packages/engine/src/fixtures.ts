/**
 * Form builders for the engine's tests (what Telerivet would post, parsed by the protocol), and a
 * database whose answers get lost.
 */
import { encodeForm, type FormObject, parseForm } from '@telehook/protocol'
import type { SQL } from 'drizzle-orm'
import { PgDialect } from 'drizzle-orm/pg-core'

export const SECRET = 'test-secret-0123456789'

const now = 1_760_000_000

/** Parses the form-encoding of `fields`, as the webhook app does with a request body. */
export function form(fields: Record<string, unknown>): FormObject {
  return parseForm(encodeForm({ secret: SECRET, ...fields }))
}

export function incomingMessage(id: string, extra: Record<string, unknown> = {}): FormObject {
  return form({
    event: 'incoming_message',
    id,
    message_type: 'sms',
    direction: 'incoming',
    status: 'received',
    content: 'hello',
    from_number: '+16505550123',
    to_number: '+16505550100',
    time_created: now,
    contact_id: `CT${id}`,
    phone_id: 'PN1',
    project_id: 'PJ1',
    contact: { name: 'Ada', vars: { lang: 'en' }, message_count: 3, phone_number: '+16505550123' },
    state: { id: 'start' },
    ...extra,
  })
}

export function sendStatus(
  id: string,
  status: string,
  extra: Record<string, unknown> = {},
): FormObject {
  return form({
    event: 'send_status',
    id,
    status,
    message_type: 'sms',
    from_number: '+16505550100',
    to_number: '+16505550123',
    content: 'hi there',
    contact_id: 'CT9',
    phone_id: 'PN1',
    time_created: now,
    project_id: 'PJ1',
    ...extra,
  })
}

export interface LostAnswerOptions {
  /** Runs after the statement committed, before its caller gets the error. */
  onLost?: () => Promise<void>
  /**
   * Then so many statements matching `match` fail without running (the outage goes on); from the
   * first statement when no answer is to be lost (`match` null).
   */
  refuse?: { match: RegExp; times: number }
}

/**
 * Wraps a Drizzle `db` so that the next raw statement (`execute`) matching `match` runs and
 * commits, but its caller gets an error instead of the answer: a connection cut after the commit.
 * @example
 * const cut = loseAnswer(database.db, /set status = 'running'/)
 * const outage = loseAnswer(database.db, null, { refuse: { match: /insert into/, times: 2 } })
 */
export function loseAnswer<T extends object>(
  db: T,
  match: RegExp | null,
  opts: LostAnswerOptions = {},
): { db: T; lost: () => number } {
  const dialect = new PgDialect()
  let armed = match !== null
  let lost = 0
  let refusals = opts.refuse?.times ?? 0
  const proxy = new Proxy(db, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver)
      if (key !== 'execute' || typeof value !== 'function') return value
      return async (query: SQL) => {
        const text = dialect.sqlToQuery(query).sql
        if (!armed && refusals > 0 && opts.refuse?.match.test(text)) {
          refusals--
          throw new Error('connect ECONNREFUSED 127.0.0.1:5432')
        }
        const result = await value.call(target, query)
        if (armed && match?.test(text)) {
          armed = false
          lost++
          await opts.onLost?.()
          throw new Error('Connection terminated unexpectedly')
        }
        return result
      }
    },
  })
  return { db: proxy, lost: () => lost }
}
