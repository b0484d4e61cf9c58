/** @module Webhook-service routes of a project: create, list (with drift), delete, rotate the secret. */
import { Elysia } from 'elysia'
import type { AdminContext } from '../../context'
import { errorResponses } from '../../errors'
import { withIdempotency } from '../../idempotency'
import { getProject, requirePublicUrl } from '../projects/service'
import {
  CreateServiceBody,
  IdempotencyHeaders,
  RotateSecretBody,
  ServiceList,
  ServiceOut,
  ServiceParams,
  ServicesParams,
} from './model'
import { createService, deleteService, listServices, rotateServiceSecret } from './service'

export const servicesModule = (ctx: AdminContext) =>
  new Elysia({ name: 'telehook-admin/services', prefix: '/v1/projects/:id/services' })
    .post(
      '',
      async ({ params, body, headers, set }) => {
        requirePublicUrl(ctx)
        const p = await getProject(ctx, params.id)
        const answer = await withIdempotency(
          ctx.database,
          `services:${p.id}`,
          headers['idempotency-key'],
          body,
          async () => ({ status: 201, body: await createService(ctx, p, body) }),
        )
        if (answer.replayed) set.headers['idempotent-replayed'] = 'true'
        set.status = answer.status
        return answer.body as typeof ServiceOut.static
      },
      {
        params: ServicesParams,
        body: CreateServiceBody,
        headers: IdempotencyHeaders,
        response: { 201: ServiceOut, ...errorResponses(400, 401, 404, 409, 415, 422, 429, 502) },
        detail: {
          summary: 'Create an incoming_message_webhook service on Telerivet with a fresh secret',
          description:
            'Send an Idempotency-Key header to make retries safe: the first answer is replayed.',
          tags: ['services'],
        },
      },
    )
    .get('', async ({ params }) => listServices(ctx, await getProject(ctx, params.id)), {
      params: ServicesParams,
      response: { 200: ServiceList, ...errorResponses(400, 401, 404, 429) },
      detail: {
        summary: "List the project's services here beside Telerivet's state (drift)",
        tags: ['services'],
      },
    })
    .delete(
      '/:sid',
      async ({ params }) => deleteService(ctx, await getProject(ctx, params.id), params.sid),
      {
        params: ServiceParams,
        response: { 200: ServiceOut, ...errorResponses(400, 401, 404, 409, 429, 502) },
        detail: {
          summary: 'Delete the service on Telerivet and disable its endpoint',
          tags: ['services'],
        },
      },
    )
    .post(
      '/:sid/rotate-secret',
      async ({ params, body }) => {
        const p = await getProject(ctx, params.id)
        const graceMs = body?.grace_seconds !== undefined ? body.grace_seconds * 1000 : ctx.graceMs
        return rotateServiceSecret(ctx, p, params.sid, graceMs)
      },
      {
        params: ServiceParams,
        body: RotateSecretBody,
        response: { 200: ServiceOut, ...errorResponses(400, 401, 404, 409, 415, 429, 502) },
        detail: {
          summary: 'Rotate the webhook secret (the old one stays valid for the grace period)',
          tags: ['services'],
        },
      },
    )
