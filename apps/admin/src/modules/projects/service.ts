/** @module Projects: onboarding (the key checked on Telerivet, stored encrypted), reading, deleting. */
import { endpoints, projects } from '@telehook/db'
import { createEndpoint, rotateEndpointSecret } from '@telehook/engine'
import { generateSecret } from '@telehook/protocol'
import type { TelerivetClient } from '@telehook/telerivet-api'
import { and, asc, eq, isNull } from 'drizzle-orm'
import { publicUrlProblem } from '../../config'
import { type AdminContext, iso } from '../../context'
import { encryptSecret } from '../../crypto'
import { ApiError, fromTelerivet } from '../../errors'
import { projectClient, telerivetClient } from '../../telerivet'
import type { CreateProjectBody, ProjectWebhookOut } from './model'

export type ProjectRow = typeof projects.$inferSelect

export function projectOut(p: ProjectRow) {
  return {
    id: p.id,
    name: p.name,
    created_at: p.createdAt.toISOString(),
    updated_at: p.updatedAt.toISOString(),
  }
}

/** The project row; 404 `not_found` when there is none. */
export async function getProject(ctx: AdminContext, id: string): Promise<ProjectRow> {
  const [p] = await ctx.db.select().from(projects).where(eq(projects.id, id))
  if (!p) throw new ApiError(404, 'not_found', 'No such project')
  return p
}

export async function listProjects(ctx: AdminContext): Promise<ProjectRow[]> {
  return ctx.db.select().from(projects).orderBy(asc(projects.id))
}

/**
 * Checks the key against Telerivet (getProject), then stores the project with the key encrypted.
 * `created` is false when it replaced the key of a known project.
 */
export async function saveProject(
  ctx: AdminContext,
  body: typeof CreateProjectBody.static,
): Promise<{ row: ProjectRow; created: boolean }> {
  const tr = telerivetClient(ctx, body.api_key)
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
  const apiKeyCiphertext = await encryptSecret(ctx.deps.masterKey, body.api_key, body.project_id)
  const name = body.name ?? tp.name ?? body.project_id
  const [existing] = await ctx.db
    .select({ id: projects.id })
    .from(projects)
    .where(eq(projects.id, body.project_id))
  const [row] = await ctx.db
    .insert(projects)
    .values({ id: body.project_id, name, apiKeyCiphertext })
    .onConflictDoUpdate({
      target: projects.id,
      set: { name, apiKeyCiphertext, updatedAt: new Date() },
    })
    .returning()
  if (!row) throw new Error('project upsert returned nothing')
  ctx.log.info({ msg: 'project saved', project_id: row.id, replaced_key: Boolean(existing) })
  return { row, created: !existing }
}

/** Deletes the project's services on Telerivet, disables its endpoints here, forgets the key. */
export async function deleteProject(ctx: AdminContext, id: string) {
  const p = await getProject(ctx, id)
  const active = await ctx.db
    .select()
    .from(endpoints)
    .where(and(eq(endpoints.projectId, p.id), isNull(endpoints.disabledAt)))
  const withService = active.filter((e) => e.telerivetServiceId)
  if (withService.length > 0) {
    const tr = await projectClient(ctx, p)
    for (const ep of withService) {
      try {
        await tr.deleteService(p.id, ep.telerivetServiceId ?? '')
      } catch (err) {
        const e = fromTelerivet(err, `Deleting service ${ep.telerivetServiceId}`)
        if (e.code !== 'telerivet_not_found') throw e
      }
    }
  }
  await ctx.db.transaction(async (tx) => {
    await tx
      .update(endpoints)
      .set({ disabledAt: new Date() })
      .where(and(eq(endpoints.projectId, p.id), isNull(endpoints.disabledAt)))
    await tx.delete(projects).where(eq(projects.id, p.id))
  })
  for (const ep of active) ctx.invalidate(ep.id)
  ctx.log.info({ msg: 'project deleted', project_id: p.id, services_deleted: withService.length })
  return { id: p.id, deleted: true, services_deleted: withService.length }
}

/** `TELEHOOK_PUBLIC_URL`, or a 400 saying why Telerivet could not deliver to it. */
export function requirePublicUrl(ctx: AdminContext): string {
  const { publicUrl } = ctx
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

/**
 * Makes the project's endpoint for project-level notifications, or rotates its secret when it
 * exists (same URL; the old secret works during the grace period). The secret is returned once.
 */
export async function projectWebhook(
  ctx: AdminContext,
  id: string,
): Promise<{ created: boolean; out: typeof ProjectWebhookOut.static }> {
  const base = requirePublicUrl(ctx)
  const p = await getProject(ctx, id)
  const secret = generateSecret()
  const [existing] = await ctx.db
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
    await rotateEndpointSecret(ctx.database, existing.id, secret, ctx.graceMs)
    ctx.invalidate(existing.id)
    const [row] = await ctx.db.select().from(endpoints).where(eq(endpoints.id, existing.id))
    ctx.log.info({
      msg: 'project webhook secret rotated',
      project_id: p.id,
      endpoint_id: existing.id,
    })
    return {
      created: false,
      out: {
        id: existing.id,
        project_id: p.id,
        url: `${base}/hooks/${existing.id}`,
        secret,
        previous_secret_expires_at: iso(row?.previousSecretExpiresAt ?? null),
      },
    }
  }
  const ep = await createEndpoint(ctx.database, {
    kind: 'project',
    projectId: p.id,
    name: 'project webhook',
    secret,
  })
  ctx.log.info({ msg: 'project webhook created', project_id: p.id, endpoint_id: ep.id })
  return {
    created: true,
    out: {
      id: ep.id,
      project_id: p.id,
      url: `${base}/hooks/${ep.id}`,
      secret,
      previous_secret_expires_at: null,
    },
  }
}
