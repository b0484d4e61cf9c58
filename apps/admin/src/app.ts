/** @module The admin API: onboard Telerivet projects, create their webhook services, read events. */
import { openapi } from '@elysiajs/openapi'
import { Type } from '@sinclair/typebox'
import {
  contacts,
  type Database,
  endpoints,
  events,
  messageStatusHistory,
  messages,
  projects,
} from '@telehook/db'
import {
  createEndpoint,
  type Engine,
  EventNotFoundError,
  type Logger,
  replayEvent,
  rotateEndpointSecret,
  silentLogger,
} from '@telehook/engine'
import { generateSecret, type Handlers } from '@telehook/protocol'
import {
  createTelerivetClient,
  type TelerivetClient,
  type Service as TelerivetService,
} from '@telehook/telerivet-api'
import { and, asc, desc, eq, gte, isNull, lt, or, type SQL, sql } from 'drizzle-orm'
import { Elysia } from 'elysia'
import { publicUrlProblem } from './config'
import { decryptSecret, encryptSecret } from './crypto'
import { docsPage, type OpenApiDoc } from './docs'
import { ApiError, ErrorBody, fromTelerivet, outcomeUnknown } from './errors'
import { withIdempotency } from './idempotency'
import { consoleGuard, consoleModule } from './modules/console'
import { jobsModule } from './modules/jobs'
import { overviewModule } from './modules/overview'
import { inspectRequest, routerPath } from './request-guard'
import { toWire } from './rows'
import {
  ContactRow,
  CreateProjectBody,
  CreateServiceBody,
  EventPage,
  EventRow,
  EventsQuery,
  MessageOut,
  ProjectOut,
  ProjectWebhookOut,
  ServiceList,
  ServiceOut,
} from './schemas'
import { bearerToken, verifyAdminToken } from './tokens'

export interface AdminDeps {
  database: Database
  /** When given, its endpoint cache is invalidated after a rotation or a delete. */
  engine?: Engine
  /** Handlers re-run by `POST /v1/events/:id/replay`. */
  handlers?: Handlers
  /** Default https://api.telerivet.com/v1 (`TELERIVET_API_URL`). */
  telerivetApiUrl?: string
  /** `TELEHOOK_PUBLIC_URL`: where Telerivet reaches the webhook app. */
  publicUrl: string | undefined
  /** `TELEHOOK_ADMIN_TOKEN`; hashed tokens in `admin_tokens` are accepted as well. */
  adminToken?: string
  /** AES-GCM key for API keys at rest (see `loadMasterKey`). */
  masterKey: CryptoKey
  /** Used for every call to Telerivet (tests inject one). */
  fetch?: typeof fetch
  logger?: Logger
  /** Grace period of a rotated secret, default 10 minutes. */
  rotationGraceMs?: number
  /** Telerivet client settings. */
  telerivetTimeoutMs?: number
  telerivetRetries?: number
  /**
   * Host names (no port) the admin API answers; `'*'` (the default) takes any well-formed Host.
   * The servers that listen pass {@link defaultAllowedHosts} of their bind address.
   */
  allowedHosts?: readonly string[] | '*'
  /** How often the console's live log looks for new events (default 1000 ms). */
  consoleLivePollMs?: number
}

const DEFAULT_GRACE_MS = 10 * 60_000
/** Path parameter of the routes that take an event id. */
const EventIdParams = Type.Object({ id: Type.String({ format: 'uuid' }) })

type EndpointRow = typeof endpoints.$inferSelect

const iso = (d: Date | null) => (d ? d.toISOString() : null)

function projectOut(p: typeof projects.$inferSelect) {
  return {
    id: p.id,
    name: p.name,
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  }
}

/** An opaque cursor over (received_at, id); the timestamp is PostgreSQL's text, exact to the µs. */
function encodeCursor(receivedAt: string, id: string): string {
  return btoa(JSON.stringify([receivedAt, id]))
    .replaceAll('+', '-')
    .replaceAll('/', '_')
    .replace(/=+$/, '')
}

function decodeCursor(cursor: string): [string, string] {
  try {
    const json = atob(cursor.replaceAll('-', '+').replaceAll('_', '/'))
    const v = JSON.parse(json) as unknown
    if (Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string')) {
      return v as [string, string]
    }
  } catch {}
  throw new ApiError(400, 'invalid_cursor', 'cursor is not one this API returned')
}

function parseTime(name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined
  const d = /^\d+$/.test(value) ? new Date(Number(value) * 1000) : new Date(value)
  if (Number.isNaN(d.getTime())) {
    throw new ApiError(400, 'invalid_param', `${name} must be an ISO time or UNIX seconds`, {
      param: name,
    })
  }
  return d
}

/** "Expected one of a, b" for a union of literals (TypeBox only says "Expected union value"). */
function literalChoices(schema: unknown): string | undefined {
  const anyOf = (schema as { anyOf?: unknown } | undefined)?.anyOf
  if (!Array.isArray(anyOf) || anyOf.length === 0) return undefined
  const values = anyOf.map((s) => (s as { const?: unknown }).const)
  if (!values.every((v) => typeof v === 'string')) return undefined
  return `Expected one of ${values.join(', ')}`
}

/**
 * Builds the admin API (Elysia, not listening). Every `/v1` route needs
 * `Authorization: Bearer <token>`; `/docs` serves the OpenAPI page and `/docs/json` the document.
 * @example
 * const app = createAdminApp({ database, publicUrl: 'https://hooks.example.com', masterKey })
 * Bun.serve({ port: 8081, hostname: '127.0.0.1', fetch: app.fetch })
 */
export function createAdminApp(deps: AdminDeps) {
  const { database } = deps
  const { db } = database
  const log = deps.logger ?? silentLogger
  const allowedHosts = deps.allowedHosts ?? '*'
  const graceDefault = deps.rotationGraceMs ?? DEFAULT_GRACE_MS
  const publicUrl = deps.publicUrl?.replace(/\/+$/, '')

  const hookUrl = (id: string) => `${publicUrl}/hooks/${id}`

  async function getProjectRow(id: string) {
    const [p] = await db.select().from(projects).where(eq(projects.id, id))
    if (!p) throw new ApiError(404, 'not_found', 'No such project')
    return p
  }

  async function clientFor(p: typeof projects.$inferSelect): Promise<TelerivetClient> {
    if (!p.apiKeyCiphertext) {
      throw new ApiError(409, 'no_api_key', 'This project has no Telerivet API key stored')
    }
    let apiKey: string
    try {
      apiKey = await decryptSecret(deps.masterKey, p.apiKeyCiphertext)
    } catch {
      throw new ApiError(
        500,
        'master_key_mismatch',
        'The stored API key cannot be decrypted: TELEHOOK_MASTER_KEY (or the key file) changed',
      )
    }
    return newClient(apiKey)
  }

  function newClient(apiKey: string): TelerivetClient {
    return createTelerivetClient({
      apiKey,
      ...(deps.telerivetApiUrl ? { baseUrl: deps.telerivetApiUrl } : {}),
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
      ...(deps.telerivetTimeoutMs ? { timeoutMs: deps.telerivetTimeoutMs } : {}),
      ...(deps.telerivetRetries !== undefined ? { retries: deps.telerivetRetries } : {}),
    })
  }

  async function serviceEndpoint(projectId: string, sid: string): Promise<EndpointRow> {
    const [ep] = await db
      .select()
      .from(endpoints)
      .where(
        and(
          eq(endpoints.projectId, projectId),
          eq(endpoints.kind, 'service'),
          or(eq(endpoints.id, sid), eq(endpoints.telerivetServiceId, sid)),
        ),
      )
      .orderBy(sql`${endpoints.disabledAt} nulls first`)
      .limit(1)
    if (!ep) throw new ApiError(404, 'not_found', 'No such service in this project')
    return ep
  }

  function serviceOut(ep: EndpointRow) {
    return {
      id: ep.id,
      project_id: ep.projectId ?? '',
      name: ep.name,
      telerivet_service_id: ep.telerivetServiceId,
      url: hookUrl(ep.id),
      created_at: ep.createdAt.toISOString(),
      disabled_at: iso(ep.disabledAt),
      previous_secret_expires_at: iso(ep.previousSecretExpiresAt),
    }
  }

  function requirePublicUrl(): string {
    if (!publicUrl) {
      throw new ApiError(
        400,
        'public_url_missing',
        'TELEHOOK_PUBLIC_URL is not set: Telerivet needs a public URL to deliver webhooks to',
      )
    }
    const problem = publicUrlProblem(publicUrl)
    if (problem) throw new ApiError(400, 'public_url_invalid', problem)
    return publicUrl
  }

  /** Finds a Telerivet webhook service by its URL (after a lost answer to createService). */
  async function findServiceByUrl(tr: TelerivetClient, projectId: string, url: string) {
    for await (const s of tr.queryServices(projectId, { page_size: 500 })) {
      if (s.webhook_url === url) return s
    }
    return null
  }

  async function removeEndpoint(id: string) {
    await db.delete(endpoints).where(eq(endpoints.id, id))
    deps.engine?.invalidateEndpoint(id)
  }

  const api = new Elysia({ name: 'telehook-admin-v1', prefix: '/v1' })
    // ---- projects ----
    .post(
      '/projects',
      async ({ body, status }) => {
        const tr = newClient(body.api_key)
        let tp: Awaited<ReturnType<TelerivetClient['getProject']>>
        try {
          tp = await tr.getProject(body.project_id)
        } catch (err) {
          const e = fromTelerivet(err, `Checking project ${body.project_id}`)
          if (e.code === 'telerivet_not_found') {
            throw new ApiError(
              400,
              'telerivet_project_not_found',
              `Telerivet has no project ${body.project_id} for this API key`,
            )
          }
          throw e
        }
        const apiKeyCiphertext = await encryptSecret(deps.masterKey, body.api_key)
        const name = body.name ?? tp.name ?? body.project_id
        const [existing] = await db
          .select({ id: projects.id })
          .from(projects)
          .where(eq(projects.id, body.project_id))
        const [row] = await db
          .insert(projects)
          .values({ id: body.project_id, name, apiKeyCiphertext })
          .onConflictDoUpdate({
            target: projects.id,
            set: { name, apiKeyCiphertext, updatedAt: new Date() },
          })
          .returning()
        if (!row) throw new Error('project upsert returned nothing')
        log.info({ msg: 'project saved', project_id: row.id, replaced_key: Boolean(existing) })
        return status(existing ? 200 : 201, projectOut(row))
      },
      {
        body: CreateProjectBody,
        response: { 200: ProjectOut, 201: ProjectOut },
        detail: {
          summary: 'Onboard a Telerivet project (checks the key; stores it encrypted)',
          tags: ['projects'],
        },
      },
    )
    .get(
      '/projects',
      async () => {
        const rows = await db.select().from(projects).orderBy(asc(projects.id))
        return { data: rows.map(projectOut) }
      },
      {
        response: { 200: Type.Object({ data: Type.Array(ProjectOut) }) },
        detail: { summary: 'List projects', tags: ['projects'] },
      },
    )
    .get('/projects/:id', async ({ params }) => projectOut(await getProjectRow(params.id)), {
      response: { 200: ProjectOut },
      detail: { summary: 'Get a project', tags: ['projects'] },
    })
    .delete(
      '/projects/:id',
      async ({ params }) => {
        const p = await getProjectRow(params.id)
        const active = await db
          .select()
          .from(endpoints)
          .where(and(eq(endpoints.projectId, p.id), isNull(endpoints.disabledAt)))
        const withService = active.filter((e) => e.telerivetServiceId)
        if (withService.length > 0) {
          const tr = await clientFor(p)
          for (const ep of withService) {
            try {
              await tr.deleteService(p.id, ep.telerivetServiceId ?? '')
            } catch (err) {
              const e = fromTelerivet(err, `Deleting service ${ep.telerivetServiceId}`)
              if (e.code !== 'telerivet_not_found') throw e
            }
          }
        }
        await db.transaction(async (tx) => {
          await tx
            .update(endpoints)
            .set({ disabledAt: new Date() })
            .where(and(eq(endpoints.projectId, p.id), isNull(endpoints.disabledAt)))
          await tx.delete(projects).where(eq(projects.id, p.id))
        })
        for (const ep of active) deps.engine?.invalidateEndpoint(ep.id)
        log.info({ msg: 'project deleted', project_id: p.id, services_deleted: withService.length })
        return { id: p.id, deleted: true, services_deleted: withService.length }
      },
      {
        response: {
          200: Type.Object({
            id: Type.String(),
            deleted: Type.Boolean(),
            services_deleted: Type.Integer(),
          }),
        },
        detail: {
          summary: 'Delete a project: its services on Telerivet, its endpoints here, its key',
          tags: ['projects'],
        },
      },
    )

    // ---- services ----
    .post(
      '/projects/:id/services',
      async ({ params, body, headers, set }) => {
        const base = requirePublicUrl()
        const p = await getProjectRow(params.id)
        const answer = await withIdempotency(
          database,
          `services:${p.id}`,
          headers['idempotency-key'],
          body,
          async () => {
            const tr = await clientFor(p)
            const id = generateSecret(16)
            const secret = generateSecret()
            const url = `${base}/hooks/${id}`
            // The endpoint exists before Telerivet hears of it, so the first delivery authenticates.
            await createEndpoint(database, {
              kind: 'service',
              projectId: p.id,
              name: body.name ?? null,
              id,
              secret,
            })
            let service: TelerivetService
            try {
              service = await tr.createService(p.id, {
                ...body,
                service_type: 'incoming_message_webhook',
                config: { url, secret },
              })
            } catch (err) {
              if (outcomeUnknown(err)) {
                // Telerivet may have created it before the answer was lost: look before giving up.
                const found = await findServiceByUrl(tr, p.id, url).catch(() => undefined)
                if (found === undefined) {
                  log.warn({
                    msg: 'service creation outcome unknown',
                    project_id: p.id,
                    endpoint_id: id,
                  })
                  throw new ApiError(
                    502,
                    'telerivet_outcome_unknown',
                    'Telerivet did not answer; the service is pending and is reconciled by GET …/services',
                  )
                }
                if (found === null) {
                  await removeEndpoint(id)
                  throw fromTelerivet(err, 'Creating the service')
                }
                service = found
              } else {
                await removeEndpoint(id)
                throw fromTelerivet(err, 'Creating the service')
              }
            }
            let ep: EndpointRow | undefined
            try {
              ;[ep] = await db
                .update(endpoints)
                .set({ telerivetServiceId: service.id, name: body.name ?? service.name ?? null })
                .where(eq(endpoints.id, id))
                .returning()
              if (!ep) throw new Error('endpoint vanished')
            } catch (err) {
              // Our commit failed after Telerivet created the service: undo it there, then here.
              log.error({
                msg: 'recording the service failed; deleting it on Telerivet',
                project_id: p.id,
                telerivet_service_id: service.id,
                error: err instanceof Error ? err.message : String(err),
              })
              await tr.deleteService(p.id, service.id).catch((e) =>
                log.error({
                  msg: 'could not delete the service on Telerivet',
                  telerivet_service_id: service.id,
                  error: e instanceof Error ? e.message : String(e),
                }),
              )
              await removeEndpoint(id).catch(() => {})
              throw new ApiError(
                500,
                'commit_failed',
                'Could not record the service; nothing was kept',
              )
            }
            log.info({
              msg: 'service created',
              project_id: p.id,
              endpoint_id: id,
              telerivet_service_id: service.id,
            })
            return { status: 201, body: serviceOut(ep) }
          },
        )
        if (answer.replayed) set.headers['idempotent-replayed'] = 'true'
        set.status = answer.status
        return answer.body as typeof ServiceOut.static
      },
      {
        body: CreateServiceBody,
        headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String()) }),
        response: { 201: ServiceOut },
        detail: {
          summary: 'Create an incoming_message_webhook service on Telerivet with a fresh secret',
          description:
            'Send an Idempotency-Key header to make retries safe: the first answer is replayed.',
          tags: ['services'],
        },
      },
    )
    .get(
      '/projects/:id/services',
      async ({ params }) => {
        const p = await getProjectRow(params.id)
        const local = await db
          .select()
          .from(endpoints)
          .where(
            and(
              eq(endpoints.projectId, p.id),
              eq(endpoints.kind, 'service'),
              isNull(endpoints.disabledAt),
            ),
          )
          .orderBy(asc(endpoints.createdAt))
        let remote: TelerivetService[] | null = null
        let telerivetError: string | null = null
        try {
          const tr = await clientFor(p)
          remote = []
          for await (const s of tr.queryServices(p.id, { page_size: 500 })) remote.push(s)
        } catch (err) {
          remote = null
          telerivetError = err instanceof Error ? err.message : String(err)
        }
        const byId = new Map((remote ?? []).map((s) => [s.id, s]))
        const byUrl = new Map((remote ?? []).map((s) => [s.webhook_url ?? '', s]))
        const claimed = new Set<string>()
        const data = []
        for (let ep of local) {
          // A pending endpoint (answer lost or process died) is adopted when Telerivet has it.
          if (!ep.telerivetServiceId && remote) {
            const found = byUrl.get(hookUrl(ep.id))
            if (found) {
              const [updated] = await db
                .update(endpoints)
                .set({ telerivetServiceId: found.id })
                .where(eq(endpoints.id, ep.id))
                .returning()
              if (updated) ep = updated
              log.info({
                msg: 'pending service reconciled',
                endpoint_id: ep.id,
                telerivet_service_id: found.id,
              })
            }
          }
          const { disabled_at: _, ...out } = serviceOut(ep)
          const s = ep.telerivetServiceId ? byId.get(ep.telerivetServiceId) : undefined
          if (s) claimed.add(s.id)
          const drift: string[] = []
          let state: 'ok' | 'drift' | 'missing_on_telerivet' | 'pending' | 'unknown'
          if (!remote) state = 'unknown'
          else if (!ep.telerivetServiceId) state = 'pending'
          else if (!s) state = 'missing_on_telerivet'
          else {
            if (s.webhook_url !== undefined && s.webhook_url !== out.url) drift.push('webhook_url')
            if (s.active === false) drift.push('active')
            if (s.service_type && s.service_type !== 'incoming_message_webhook')
              drift.push('service_type')
            state = drift.length > 0 ? 'drift' : 'ok'
          }
          data.push({
            ...out,
            state,
            drift,
            telerivet: s
              ? {
                  ...(s.name !== undefined ? { name: s.name } : {}),
                  ...(s.active !== undefined ? { active: s.active } : {}),
                  ...(s.priority !== undefined ? { priority: s.priority } : {}),
                  ...(s.webhook_url !== undefined ? { webhook_url: s.webhook_url } : {}),
                }
              : null,
          })
        }
        const prefix = publicUrl ? `${publicUrl}/hooks/` : null
        const unmanaged = (remote ?? [])
          .filter((s) => !claimed.has(s.id) && prefix && s.webhook_url?.startsWith(prefix))
          .map((s) => ({ telerivet_service_id: s.id, webhook_url: s.webhook_url ?? null }))
        return { data, unmanaged, telerivet_error: telerivetError }
      },
      {
        response: { 200: ServiceList },
        detail: {
          summary: "List the project's services here beside Telerivet's state (drift)",
          tags: ['services'],
        },
      },
    )
    .delete(
      '/projects/:id/services/:sid',
      async ({ params }) => {
        const p = await getProjectRow(params.id)
        const ep = await serviceEndpoint(p.id, params.sid)
        if (ep.telerivetServiceId && !ep.disabledAt) {
          const tr = await clientFor(p)
          try {
            await tr.deleteService(p.id, ep.telerivetServiceId)
          } catch (err) {
            const e = fromTelerivet(err, 'Deleting the service on Telerivet')
            if (e.code !== 'telerivet_not_found') throw e
          }
        }
        const [row] = await db
          .update(endpoints)
          .set({ disabledAt: ep.disabledAt ?? new Date() })
          .where(eq(endpoints.id, ep.id))
          .returning()
        deps.engine?.invalidateEndpoint(ep.id)
        log.info({ msg: 'service deleted', project_id: p.id, endpoint_id: ep.id })
        return serviceOut(row ?? ep)
      },
      {
        response: { 200: ServiceOut },
        detail: {
          summary: 'Delete the service on Telerivet and disable its endpoint',
          tags: ['services'],
        },
      },
    )
    .post(
      '/projects/:id/services/:sid/rotate-secret',
      async ({ params, body }) => {
        const p = await getProjectRow(params.id)
        const ep = await serviceEndpoint(p.id, params.sid)
        if (ep.disabledAt) throw new ApiError(409, 'disabled', 'This service was deleted')
        if (!ep.telerivetServiceId) {
          throw new ApiError(
            409,
            'pending',
            'This service is pending: list services to reconcile it',
          )
        }
        const graceMs = body?.grace_seconds !== undefined ? body.grace_seconds * 1000 : graceDefault
        const tr = await clientFor(p)
        const secret = generateSecret()
        // Accept the new secret here first, keeping the old one valid, then tell Telerivet.
        await rotateEndpointSecret(database, ep.id, secret, graceMs)
        deps.engine?.invalidateEndpoint(ep.id)
        try {
          await tr.setServiceConfig(p.id, ep.telerivetServiceId, { url: hookUrl(ep.id), secret })
        } catch (err) {
          // Telerivet kept the old secret: make it the current one again.
          await db
            .update(endpoints)
            .set({
              secretHash: sql`${endpoints.previousSecretHash}`,
              previousSecretHash: null,
              previousSecretExpiresAt: null,
            })
            .where(eq(endpoints.id, ep.id))
          deps.engine?.invalidateEndpoint(ep.id)
          throw fromTelerivet(err, 'Setting the new secret on Telerivet')
        }
        const [row] = await db.select().from(endpoints).where(eq(endpoints.id, ep.id))
        log.info({
          msg: 'service secret rotated',
          project_id: p.id,
          endpoint_id: ep.id,
          grace_ms: graceMs,
        })
        return serviceOut(row ?? ep)
      },
      {
        body: Type.Optional(
          Type.Object({
            grace_seconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 86_400 })),
          }),
        ),
        response: { 200: ServiceOut },
        detail: {
          summary: 'Rotate the webhook secret (the old one stays valid for the grace period)',
          tags: ['services'],
        },
      },
    )
    .post(
      '/projects/:id/project-webhook',
      async ({ params, status }) => {
        const base = requirePublicUrl()
        const p = await getProjectRow(params.id)
        const secret = generateSecret()
        const [existing] = await db
          .select()
          .from(endpoints)
          .where(
            and(
              eq(endpoints.projectId, p.id),
              eq(endpoints.kind, 'project'),
              isNull(endpoints.disabledAt),
            ),
          )
          .limit(1)
        if (existing) {
          // Asking again gives a new secret for the same URL; the old one works during the grace period.
          await rotateEndpointSecret(database, existing.id, secret, graceDefault)
          deps.engine?.invalidateEndpoint(existing.id)
          const [row] = await db.select().from(endpoints).where(eq(endpoints.id, existing.id))
          log.info({
            msg: 'project webhook secret rotated',
            project_id: p.id,
            endpoint_id: existing.id,
          })
          return status(200, {
            id: existing.id,
            project_id: p.id,
            url: `${base}/hooks/${existing.id}`,
            secret,
            previous_secret_expires_at: iso(row?.previousSecretExpiresAt ?? null),
          })
        }
        const ep = await createEndpoint(database, {
          kind: 'project',
          projectId: p.id,
          name: 'project webhook',
          secret,
        })
        log.info({ msg: 'project webhook created', project_id: p.id, endpoint_id: ep.id })
        return status(201, {
          id: ep.id,
          project_id: p.id,
          url: `${base}/hooks/${ep.id}`,
          secret,
          previous_secret_expires_at: null,
        })
      },
      {
        response: { 200: ProjectWebhookOut, 201: ProjectWebhookOut },
        detail: {
          summary:
            'Endpoint for project-level notifications: paste URL and secret into Telerivet project settings',
          tags: ['projects'],
        },
      },
    )

    // ---- events, messages, contacts ----
    .get(
      '/events',
      async ({ query }) => {
        const limit = Math.min(Math.max(Number(query.limit ?? 50), 1), 500)
        const conds: SQL[] = []
        if (query.project_id) conds.push(eq(events.projectId, query.project_id))
        if (query.endpoint_id) conds.push(eq(events.endpointId, query.endpoint_id))
        if (query.event) conds.push(eq(events.event, query.event))
        if (query.valid) conds.push(eq(events.valid, query.valid === 'true'))
        const since = parseTime('since', query.since)
        const until = parseTime('until', query.until)
        if (since) conds.push(gte(events.receivedAt, since))
        if (until) conds.push(lt(events.receivedAt, until))
        if (query.cursor) {
          const [at, id] = decodeCursor(query.cursor)
          conds.push(sql`(${events.receivedAt}, ${events.id}) < (${at}::timestamptz, ${id}::uuid)`)
        }
        const rows = await db
          .select({ row: events, at: sql<string>`${events.receivedAt}::text` })
          .from(events)
          .where(conds.length ? and(...conds) : undefined)
          .orderBy(desc(events.receivedAt), desc(events.id))
          .limit(limit + 1)
        const page = rows.slice(0, limit)
        const last = page[page.length - 1]
        return {
          data: page.map((r) => toWire<typeof EventRow.static>(r.row)),
          next_cursor: rows.length > limit && last ? encodeCursor(last.at, last.row.id) : null,
        }
      },
      {
        query: EventsQuery,
        response: { 200: EventPage },
        detail: {
          summary:
            'List events, newest first (filters; pass next_cursor as cursor for the next page)',
          tags: ['events'],
        },
      },
    )
    .get(
      '/events/:id',
      async ({ params }) => {
        const [row] = await db.select().from(events).where(eq(events.id, params.id))
        if (!row) throw new ApiError(404, 'not_found', 'No such event')
        return toWire<typeof EventRow.static>(row)
      },
      {
        params: EventIdParams,
        response: { 200: EventRow },
        detail: { summary: 'Get one event', tags: ['events'] },
      },
    )
    .post(
      '/events/:id/replay',
      async ({ params }) => {
        const result = await replayEvent(database, params.id, deps.handlers).catch((error) => {
          if (error instanceof EventNotFoundError) {
            throw new ApiError(404, 'not_found', 'No such event')
          }
          throw error
        })
        log.info({ msg: 'event replayed', event_id: params.id, jobs: result.jobs })
        return { event_id: params.id, jobs: result.jobs, applied: result.applied }
      },
      {
        params: EventIdParams,
        response: {
          200: Type.Object({
            event_id: Type.String(),
            jobs: Type.Integer(),
            applied: Type.Boolean(),
          }),
        },
        detail: {
          summary: 'Re-apply the projections of an event and re-enqueue its async handlers',
          tags: ['events'],
        },
      },
    )
    .get(
      '/messages/:id',
      async ({ params }) => {
        const [m] = await db.select().from(messages).where(eq(messages.id, params.id))
        if (!m) throw new ApiError(404, 'not_found', 'No such message')
        const history = await db
          .select()
          .from(messageStatusHistory)
          .where(eq(messageStatusHistory.messageId, m.id))
          .orderBy(asc(messageStatusHistory.id))
        return {
          ...toWire<typeof MessageOut.static>(m),
          status_history: history.map((h) =>
            toWire<(typeof MessageOut.static)['status_history'][number]>(h),
          ),
        }
      },
      {
        response: { 200: MessageOut },
        detail: { summary: 'Get a message with its status history', tags: ['messages'] },
      },
    )
    .get(
      '/contacts/:id',
      async ({ params }) => {
        const [c] = await db.select().from(contacts).where(eq(contacts.id, params.id))
        if (!c) throw new ApiError(404, 'not_found', 'No such contact')
        return toWire<typeof ContactRow.static>(c)
      },
      {
        response: { 200: ContactRow },
        detail: { summary: 'Get a contact', tags: ['contacts'] },
      },
    )

  // The page is built once, on first request, from the finished app's OpenAPI document.
  let page: Promise<string> | undefined
  const docsHtml = (request: Request): Promise<string> => {
    page ??= Promise.resolve(admin.handle(new Request(new URL('/docs/json', request.url)))).then(
      async (res) => docsPage((await res.json()) as OpenApiDoc, '/docs/json'),
    )
    return page
  }

  const guardConsole = consoleGuard(database)
  const admin = new Elysia({ name: 'telehook-admin' })
    .use(
      openapi({
        path: '/docs',
        // Our own page at /docs: readable without the CDN the stock page loads its script from.
        provider: null,
        documentation: {
          info: {
            title: 'Telehook admin API',
            version: '0.1.0',
            description:
              'Onboard Telerivet projects, create their webhook services, read stored events. ' +
              'Every /v1 route needs Authorization: Bearer <token>. Request bodies are JSON. ' +
              'Errors answer {"error": {"code", "message", "param"?}} (ErrorBody) with a 4xx or ' +
              '5xx status: 400 invalid input or Telerivet refusing, 401 token, 404, 409, 415 not ' +
              'JSON, 422 Idempotency-Key reused, 502 Telerivet unreachable.',
          },
          components: {
            securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
          },
          security: [{ bearer: [] }],
        },
      }),
    )
    // Before routing, parsing and validation: without a valid token nothing else is looked at,
    // so a 401 is all an unauthenticated caller ever learns.
    .onRequest(async ({ request }) => {
      const verdict = inspectRequest(request, allowedHosts)
      if (verdict.kind === 'refuse') {
        log.warn({
          msg: 'admin request refused',
          method: request.method,
          path: verdict.path,
          status: verdict.status,
          reason: verdict.code,
        })
        return Response.json(
          { error: { code: verdict.code, message: verdict.message } },
          { status: verdict.status },
        )
      }
      // Deny by default: every path but the allow-list needs a token, routes or not.
      const path = verdict.path
      if (verdict.public) return
      // Console pages and actions: a session cookie instead of a bearer token (CSRF checked there).
      if (verdict.console) return guardConsole(request)
      const who = await verifyAdminToken(
        database,
        deps.adminToken,
        bearerToken(request.headers.get('authorization')),
      )
      if (!who) {
        log.warn({ msg: 'admin request', method: request.method, path, status: 401 })
        return new Response(
          JSON.stringify({
            error: { code: 'unauthorized', message: 'Missing or invalid token' },
          }),
          {
            status: 401,
            headers: {
              'content-type': 'application/json',
              'www-authenticate': 'Bearer realm="telehook-admin"',
            },
          },
        )
      }
      // A JSON API: a form or text body would otherwise be parsed as such and fail validation
      // with a message about its fields instead of about its type.
      const type = request.headers.get('content-type')
      if (
        type !== null &&
        request.method !== 'GET' &&
        request.method !== 'HEAD' &&
        !/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)
      ) {
        return Response.json(
          {
            error: {
              code: 'unsupported_media_type',
              message: 'Send the body as JSON with Content-Type: application/json',
            },
          },
          { status: 415 },
        )
      }
    })
    .onAfterResponse(({ request, set }) => {
      // Method, path and status only: bodies and headers (keys, tokens) are never logged.
      log.info({
        msg: 'admin request',
        method: request.method,
        path: routerPath(request.url),
        status: typeof set.status === 'number' ? set.status : String(set.status ?? 200),
      })
    })
    .model({ ErrorBody })
    .error({ ApiError })
    .onError(({ code, error, set, request }) => {
      // By instance, not `code`: Elysia takes an error's own `code` field as its code.
      if (error instanceof ApiError) {
        set.status = error.httpStatus
        if (error.httpStatus >= 500) {
          log.error({
            msg: 'request failed',
            path: routerPath(request.url),
            code: error.code,
          })
        }
        return error.toBody()
      }
      if (code === 'VALIDATION') {
        // Never echo the rejected values: a body may hold an API key.
        set.status = 400
        const errors = error.all.map((e) => ({
          path: 'path' in e && e.path ? String(e.path) : '',
          message:
            literalChoices('schema' in e ? e.schema : undefined) ??
            ('message' in e && e.message ? String(e.message) : 'invalid'),
        }))
        return {
          error: {
            code: 'invalid_request',
            message: `Invalid ${error.type}: ${errors.map((e) => `${e.path || '/'} ${e.message}`).join('; ')}`,
            errors,
          },
        }
      }
      if (code === 'NOT_FOUND') {
        set.status = 404
        return { error: { code: 'not_found', message: 'No such route' } }
      }
      if (code === 'PARSE') {
        set.status = 400
        return { error: { code: 'invalid_json', message: 'The body is not valid JSON' } }
      }
      set.status = 500
      log.error({
        msg: 'unexpected error',
        path: routerPath(request.url),
        error: error instanceof Error ? error.message : String(error),
      })
      return { error: { code: 'internal', message: 'Internal error' } }
    })
    .get(
      '/docs',
      async ({ request }) =>
        new Response(await docsHtml(request), {
          headers: { 'content-type': 'text/html; charset=utf-8' },
        }),
      { detail: { hide: true } },
    )
    .use(api)
    .use(jobsModule({ database }))
    .use(overviewModule({ database }))
    .use(
      consoleModule({
        database,
        adminToken: deps.adminToken,
        handlers: deps.handlers,
        logger: log,
        ...(deps.consoleLivePollMs ? { livePollMs: deps.consoleLivePollMs } : {}),
      }),
    )
  return admin
}

/** The admin app's type, for composing it (e.g. in `telehook serve`). */
export type AdminApp = ReturnType<typeof createAdminApp>
