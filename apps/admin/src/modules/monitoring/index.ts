/**
 * @module Monitoring routes of the admin port: `GET /healthz` (public: the admin request guard lets
 * it through without a token) and `GET /metrics` (behind the token; 404 when the app was given no
 * `metrics` source).
 */
import { Elysia } from 'elysia'
import type { AdminContext } from '../../context'
import { ApiError, errorResponses } from '../../errors'
import { Health } from './model'
import { databaseHealthy } from './service'

export const monitoringModule = (ctx: AdminContext) =>
  new Elysia({ name: 'telehook-admin/monitoring' })
    .get(
      '/healthz',
      async ({ status }) => {
        const driver = ctx.database.driver
        return (await databaseHealthy(ctx))
          ? status(200, { status: 'ok' as const, driver })
          : status(503, { status: 'unavailable' as const, driver })
      },
      {
        response: { 200: Health, 503: Health },
        detail: {
          summary: 'Health of the admin app (the database answers); no token needed',
          tags: ['monitoring'],
          security: [],
        },
      },
    )
    .get(
      '/metrics',
      async () => {
        const { metrics } = ctx.deps
        if (!metrics) throw new ApiError(404, 'not_found', 'No metrics are served by this process')
        return new Response(await metrics(), {
          headers: { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' },
        })
      },
      {
        response: errorResponses(401, 404, 429),
        detail: {
          summary: 'Prometheus metrics (text exposition format); 404 when this process has none',
          tags: ['monitoring'],
          responses: {
            200: {
              description: 'Prometheus text',
              content: { 'text/plain': { schema: { type: 'string' } } },
            },
          },
        },
      },
    )
