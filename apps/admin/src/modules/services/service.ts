/**
 * @module Webhook services: an endpoint here and an incoming_message_webhook service on Telerivet,
 * kept in step (no orphans on either side), listed beside Telerivet's own state.
 */
import { endpoints } from '@telehook/db'
import { createEndpoint, rotateEndpointSecret } from '@telehook/engine'
import { generateSecret } from '@telehook/protocol'
import {
  requestNotSent,
  type TelerivetClient,
  type Service as TelerivetService,
} from '@telehook/telerivet-api'
import { and, asc, eq, isNotNull, isNull, or, sql } from 'drizzle-orm'
import { type AdminContext, iso } from '../../context'
import { ApiError, fromTelerivet, outcomeUnknown } from '../../errors'
import { projectClient } from '../../telerivet'
import { type ProjectRow, requirePublicUrl } from '../projects/service'
import type { CreateServiceBody, ServiceList, ServiceOut } from './model'

type EndpointRow = typeof endpoints.$inferSelect

export function serviceOut(ctx: AdminContext, ep: EndpointRow): typeof ServiceOut.static {
  return {
    id: ep.id,
    project_id: ep.projectId ?? '',
    name: ep.name,
    telerivet_service_id: ep.telerivetServiceId,
    url: ctx.hookUrl(ep.id),
    created_at: ep.createdAt.toISOString(),
    disabled_at: iso(ep.disabledAt),
    previous_secret_expires_at: iso(ep.previousSecretExpiresAt),
  }
}

/** The project's service endpoint by our id or Telerivet's service id; 404 when none. */
export async function serviceEndpoint(
  ctx: AdminContext,
  projectId: string,
  sid: string,
): Promise<EndpointRow> {
  const [ep] = await ctx.db
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

/** Finds a Telerivet webhook service by its URL (after a lost answer to createService). */
async function findServiceByUrl(tr: TelerivetClient, projectId: string, url: string) {
  for await (const s of tr.queryServices(projectId, { page_size: 500 })) {
    if (s.webhook_url === url) return s
  }
  return null
}

async function removeEndpoint(ctx: AdminContext, id: string) {
  await ctx.db.delete(endpoints).where(eq(endpoints.id, id))
  ctx.invalidate(id)
}

/**
 * Creates the endpoint (so the first delivery authenticates), then the service on Telerivet with
 * the endpoint's URL and a fresh secret. Whatever fails, nothing is left half made on either side,
 * except when Telerivet's answer is lost and it cannot be asked: then the endpoint stays pending
 * until {@link listServices} finds it on Telerivet.
 */
export async function createService(
  ctx: AdminContext,
  p: ProjectRow,
  body: typeof CreateServiceBody.static,
): Promise<typeof ServiceOut.static> {
  const { db, log } = ctx
  const base = requirePublicUrl(ctx)
  const tr = await projectClient(ctx, p)
  const id = generateSecret(16)
  const secret = generateSecret()
  const url = `${base}/hooks/${id}`
  // The endpoint exists before Telerivet hears of it, so the first delivery authenticates.
  await createEndpoint(ctx.database, {
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
    if (requestNotSent(err)) {
      // Telerivet was never reached (connection refused, unknown host): nothing exists there.
      await removeEndpoint(ctx, id)
      throw new ApiError(
        502,
        'telerivet_unreachable',
        `Telerivet could not be reached, so nothing was created (${err instanceof Error ? err.message : String(err)}); try again`,
      )
    }
    if (outcomeUnknown(err)) {
      // Telerivet may have created it before the answer was lost: look before giving up.
      const found = await findServiceByUrl(tr, p.id, url).catch(() => undefined)
      if (found === undefined) {
        log.warn({ msg: 'service creation outcome unknown', project_id: p.id, endpoint_id: id })
        throw new ApiError(
          502,
          'telerivet_outcome_unknown',
          'Telerivet did not answer, so whether it created the service is unknown: it is pending. ' +
            `Listing the project's services (GET /v1/projects/${p.id}/services) settles it once ` +
            'Telerivet answers: kept when Telerivet has it, removed when it does not.',
        )
      }
      if (found === null) {
        await removeEndpoint(ctx, id)
        throw fromTelerivet(err, 'Creating the service')
      }
      service = found
    } else {
      await removeEndpoint(ctx, id)
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
    await removeEndpoint(ctx, id).catch(() => {})
    throw new ApiError(500, 'commit_failed', 'Could not record the service; nothing was kept')
  }
  log.info({
    msg: 'service created',
    project_id: p.id,
    endpoint_id: id,
    telerivet_service_id: service.id,
  })
  return serviceOut(ctx, ep)
}

/** A pending endpoint younger than this that Telerivet does not list may still be in creation. */
export const PENDING_SETTLE_MS = 2 * 60_000

type Settled =
  | { kind: 'adopted'; ep: EndpointRow }
  | { kind: 'removed' }
  | { kind: 'waiting'; ep: EndpointRow }

/**
 * Settles a pending endpoint (its createService answer was lost) against Telerivet's list of the
 * project's services: the service with its URL, or with its name when Telerivet does not show
 * URLs, is adopted; when Telerivet has none and the endpoint is older than
 * {@link PENDING_SETTLE_MS}, the creation never happened and the endpoint is removed.
 */
async function settlePending(
  ctx: AdminContext,
  ep: EndpointRow,
  remote: TelerivetService[],
  linked: ReadonlySet<string>,
  now = Date.now(),
): Promise<Settled> {
  const url = ctx.hookUrl(ep.id)
  let found = remote.find((s) => s.webhook_url === url)
  if (!found && ep.name) {
    const byName = remote.filter(
      (s) =>
        s.webhook_url === undefined &&
        s.name === ep.name &&
        !linked.has(s.id) &&
        (s.service_type === undefined || s.service_type === 'incoming_message_webhook'),
    )
    if (byName.length === 1) found = byName[0]
  }
  if (found) {
    const [updated] = await ctx.db
      .update(endpoints)
      .set({ telerivetServiceId: found.id })
      .where(and(eq(endpoints.id, ep.id), isNull(endpoints.telerivetServiceId)))
      .returning()
    ctx.log.info({
      msg: 'pending service reconciled',
      endpoint_id: ep.id,
      telerivet_service_id: found.id,
    })
    return { kind: 'adopted', ep: updated ?? { ...ep, telerivetServiceId: found.id } }
  }
  if (now - ep.createdAt.getTime() < PENDING_SETTLE_MS) return { kind: 'waiting', ep }
  await ctx.db
    .delete(endpoints)
    .where(and(eq(endpoints.id, ep.id), isNull(endpoints.telerivetServiceId)))
  ctx.invalidate(ep.id)
  ctx.log.info({ msg: 'pending service never created on Telerivet: removed', endpoint_id: ep.id })
  return { kind: 'removed' }
}

async function remoteServices(ctx: AdminContext, p: ProjectRow): Promise<TelerivetService[]> {
  const tr = await projectClient(ctx, p)
  const remote: TelerivetService[] = []
  for await (const s of tr.queryServices(p.id, { page_size: 500 })) remote.push(s)
  return remote
}

/**
 * The project's services here beside Telerivet's state: drift, services missing there, services
 * there pointing at this Telehook that it does not know. Pending endpoints are settled
 * ({@link settlePending}); those Telerivet never created are listed in `removed_pending`.
 */
export async function listServices(
  ctx: AdminContext,
  p: ProjectRow,
): Promise<typeof ServiceList.static> {
  const { db, publicUrl } = ctx
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
    remote = await remoteServices(ctx, p)
  } catch (err) {
    remote = null
    telerivetError = err instanceof Error ? err.message : String(err)
  }
  const byId = new Map((remote ?? []).map((s) => [s.id, s]))
  const linked = new Set(local.flatMap((e) => (e.telerivetServiceId ? [e.telerivetServiceId] : [])))
  const claimed = new Set<string>()
  const data: (typeof ServiceList.static)['data'] = []
  const removedPending: (typeof ServiceList.static)['removed_pending'] = []
  for (let ep of local) {
    if (!ep.telerivetServiceId && remote) {
      const settled = await settlePending(ctx, ep, remote, linked)
      if (settled.kind === 'removed') {
        removedPending.push({ id: ep.id, name: ep.name, created_at: ep.createdAt.toISOString() })
        continue
      }
      ep = settled.ep
      if (ep.telerivetServiceId) linked.add(ep.telerivetServiceId)
    }
    const { disabled_at: _, ...out } = serviceOut(ctx, ep)
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
  return {
    data,
    unmanaged,
    removed_pending: removedPending,
    telerivet_error: telerivetError,
  }
}

/** Deletes the service on Telerivet (already gone there is fine) and disables its endpoint. */
export async function deleteService(
  ctx: AdminContext,
  p: ProjectRow,
  sid: string,
): Promise<typeof ServiceOut.static> {
  const ep = await serviceEndpoint(ctx, p.id, sid)
  if (ep.telerivetServiceId && !ep.disabledAt) {
    const tr = await projectClient(ctx, p)
    try {
      await tr.deleteService(p.id, ep.telerivetServiceId)
    } catch (err) {
      const e = fromTelerivet(err, 'Deleting the service on Telerivet')
      if (e.code !== 'telerivet_not_found') throw e
    }
  }
  const [row] = await ctx.db
    .update(endpoints)
    .set({ disabledAt: ep.disabledAt ?? new Date() })
    .where(eq(endpoints.id, ep.id))
    .returning()
  ctx.invalidate(ep.id)
  ctx.log.info({ msg: 'service deleted', project_id: p.id, endpoint_id: ep.id })
  return serviceOut(ctx, row ?? ep)
}

/**
 * A new secret: accepted here first (the old one stays valid for `graceMs`), then set on Telerivet;
 * when Telerivet refuses, the old secret becomes the current one again.
 */
export async function rotateServiceSecret(
  ctx: AdminContext,
  p: ProjectRow,
  sid: string,
  graceMs: number,
): Promise<typeof ServiceOut.static> {
  const { db } = ctx
  const ep = await serviceEndpoint(ctx, p.id, sid)
  if (ep.disabledAt) throw new ApiError(409, 'disabled', 'This service was deleted')
  let serviceId = ep.telerivetServiceId
  if (!serviceId) {
    // Pending: settle it with Telerivet first, as the service list does.
    let remote: TelerivetService[]
    try {
      remote = await remoteServices(ctx, p)
    } catch (err) {
      if (err instanceof ApiError) throw err
      throw new ApiError(
        502,
        'telerivet_unavailable',
        `This service is pending (Telerivet's answer to its creation was lost) and Telerivet cannot be asked now (${err instanceof Error ? err.message : String(err)}): try again when it answers`,
      )
    }
    const others = await ctx.db
      .select({ sid: endpoints.telerivetServiceId })
      .from(endpoints)
      .where(and(eq(endpoints.projectId, p.id), isNotNull(endpoints.telerivetServiceId)))
    const linked = new Set(others.flatMap((o) => (o.sid ? [o.sid] : [])))
    const settled = await settlePending(ctx, ep, remote, linked)
    if (settled.kind === 'removed') {
      throw new ApiError(
        409,
        'never_created',
        `Telerivet never created this service, so its endpoint was removed: create it again (POST /v1/projects/${p.id}/services)`,
      )
    }
    if (!settled.ep.telerivetServiceId) {
      throw new ApiError(
        409,
        'pending',
        'Telerivet does not list this service yet (its creation may still be under way): try again in a few minutes',
      )
    }
    serviceId = settled.ep.telerivetServiceId
  }
  const tr = await projectClient(ctx, p)
  const secret = generateSecret()
  await rotateEndpointSecret(ctx.database, ep.id, secret, graceMs)
  ctx.invalidate(ep.id)
  try {
    await tr.setServiceConfig(p.id, serviceId, { url: ctx.hookUrl(ep.id), secret })
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
    ctx.invalidate(ep.id)
    throw fromTelerivet(err, 'Setting the new secret on Telerivet')
  }
  const [row] = await db.select().from(endpoints).where(eq(endpoints.id, ep.id))
  ctx.log.info({
    msg: 'service secret rotated',
    project_id: p.id,
    endpoint_id: ep.id,
    grace_ms: graceMs,
  })
  return serviceOut(ctx, row ?? ep)
}
