/** @module handlers — the typed shape of user code that answers and processes events. */
import type { EventOf, EventType } from './events/index.ts'
import type { WebhookReply } from './reply.ts'

/** Given to a synchronous handler, which runs inside the webhook request. */
export interface HandlerContext {
  endpointId: string
  projectId: string | null
  /** Aborted when the handler's deadline (well inside Telerivet's 10 s) passes. */
  signal: AbortSignal
}

/** Given to an asynchronous handler, which runs from the durable queue. */
export interface JobContext {
  eventId: string
  endpointId: string
  /** 1 on the first run, then counts retries. */
  attempt: number
  signal: AbortSignal
}

/** Quick, side-effect-free handlers that shape the reply; one per event type. */
export type SyncHandlers = {
  [T in EventType]?: (
    event: EventOf<T>,
    ctx: HandlerContext,
    // biome-ignore lint/suspicious/noConfusingVoidType: a handler that sets nothing may just return
  ) => WebhookReply | undefined | void | Promise<WebhookReply | undefined | void>
}

/** Handlers with side effects, run after the event is stored, with retries; one per event type. */
export type AsyncHandlers = {
  [T in EventType]?: (event: EventOf<T>, ctx: JobContext) => void | Promise<void>
}

/** A handlers module: what the CLI loads and the engine and worker run. */
export interface Handlers {
  sync?: SyncHandlers
  async?: AsyncHandlers
}

/**
 * Identity function that gives handler modules their types.
 *
 * @example
 * export default defineHandlers({
 *   sync: { incoming_message: (m) => reply().message(`You said: ${m.content}`).build() },
 *   async: { send_status: async (s) => { await notify(s.id, s.status) } },
 * })
 */
export function defineHandlers(h: Handlers): Handlers {
  return h
}
