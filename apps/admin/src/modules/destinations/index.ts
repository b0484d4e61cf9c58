/**
 * @module Destination routes: the user's own services that receive events as signed JSON. Create
 * (the signing secret is shown once), list, read, change, rotate the secret, delete; list the
 * attempts; retry the dead jobs; re-send one event.
 */
import {
  countJobs,
  createDestination,
  deleteDestination,
  getDestination,
  listAttempts,
  listDestinations,
  resendEvent,
  retryDeadJobs,
  rotateDestinationSecret,
  updateDestination,
} from '@telehook/engine/forward'
import { Elysia } from 'elysia'
import type { AdminContext } from '../../context'
import { errorResponses } from '../../errors'
import { pageSize } from '../../paging'
import {
  AttemptList,
  AttemptQuery,
  CreateDestinationBody,
  DestinationDeleted,
  DestinationDetail,
  DestinationIdParams,
  DestinationList,
  DestinationOut,
  DestinationQuery,
  DestinationWithSecret,
  ResendBody,
  ResendOut,
  RetryDeadOut,
  RotateBody,
  UpdateDestinationBody,
} from './model'
import { attemptOut, destinationOut, mapped } from './service'

export const destinationsModule = (ctx: AdminContext) =>
  new Elysia({ name: 'telehook-admin/destinations', prefix: '/v1/destinations' })
    .post(
      '',
      async ({ body, status }) => {
        const { destination, secret } = await mapped(() =>
          createDestination(ctx.database, ctx.deps.masterKey, {
            projectId: body.project_id,
            endpointId: body.endpoint_id,
            url: body.url,
            eventTypes: body.event_types,
            enabled: body.enabled,
            maxInFlight: body.max_in_flight,
          }),
        )
        ctx.log.info({ msg: 'destination created', destination: destination.id })
        return status(201, { destination: destinationOut(destination), secret })
      },
      {
        body: CreateDestinationBody,
        response: { 201: DestinationWithSecret, ...errorResponses(400, 401, 404, 415, 429) },
        detail: {
          summary:
            "Add a destination for a project's (or an endpoint's) events; its signing secret is shown once",
          tags: ['destinations'],
        },
      },
    )
    .get(
      '',
      async ({ query }) => ({
        data: (
          await listDestinations(ctx.database, {
            projectId: query.project_id,
            endpointId: query.endpoint_id,
          })
        ).map(destinationOut),
      }),
      {
        query: DestinationQuery,
        response: { 200: DestinationList, ...errorResponses(400, 401, 429) },
        detail: { summary: 'List destinations', tags: ['destinations'] },
      },
    )
    .get(
      '/:id',
      async ({ params }) => {
        const destination = await mapped(() => getDestination(ctx.database, params.id))
        return {
          destination: destinationOut(destination),
          jobs: await countJobs(ctx.database, params.id),
        }
      },
      {
        params: DestinationIdParams,
        response: { 200: DestinationDetail, ...errorResponses(400, 401, 404, 429) },
        detail: {
          summary: 'Get a destination and how many of its jobs are in each state',
          tags: ['destinations'],
        },
      },
    )
    .patch(
      '/:id',
      async ({ params, body }) =>
        destinationOut(
          await mapped(() =>
            updateDestination(ctx.database, params.id, {
              url: body.url,
              eventTypes: body.event_types,
              enabled: body.enabled,
              maxInFlight: body.max_in_flight,
            }),
          ),
        ),
      {
        params: DestinationIdParams,
        body: UpdateDestinationBody,
        response: { 200: DestinationOut, ...errorResponses(400, 401, 404, 415, 429) },
        detail: {
          summary: 'Change a destination (URL, event types, enabled, bound)',
          tags: ['destinations'],
        },
      },
    )
    .post(
      '/:id/rotate-secret',
      async ({ params, body }) => {
        const graceMs = (body?.grace_seconds ?? 86_400) * 1000
        const { destination, secret } = await mapped(() =>
          rotateDestinationSecret(ctx.database, ctx.deps.masterKey, params.id, graceMs),
        )
        ctx.log.info({ msg: 'destination secret rotated', destination: destination.id })
        return { destination: destinationOut(destination), secret }
      },
      {
        params: DestinationIdParams,
        body: RotateBody,
        response: { 200: DestinationWithSecret, ...errorResponses(400, 401, 404, 415, 429) },
        detail: {
          summary:
            'New signing secret (shown once); requests carry both signatures until the grace ends',
          tags: ['destinations'],
        },
      },
    )
    .delete(
      '/:id',
      async ({ params }) => {
        await mapped(() => deleteDestination(ctx.database, params.id))
        ctx.log.info({ msg: 'destination deleted', destination: params.id })
        return { id: params.id, deleted: true as const }
      },
      {
        params: DestinationIdParams,
        response: { 200: DestinationDeleted, ...errorResponses(400, 401, 404, 429) },
        detail: {
          summary: 'Delete a destination with its jobs and attempts',
          tags: ['destinations'],
        },
      },
    )
    .get(
      '/:id/attempts',
      async ({ params, query }) => {
        const limit = pageSize(query.limit)
        const rows = await mapped(() =>
          listAttempts(ctx.database, params.id, {
            limit,
            before: query.before === undefined ? undefined : Number(query.before),
            eventId: query.event_id,
          }),
        )
        const last = rows.at(-1)
        return {
          data: rows.map(attemptOut),
          next_before: rows.length === limit && last ? last.id : null,
        }
      },
      {
        params: DestinationIdParams,
        query: AttemptQuery,
        response: { 200: AttemptList, ...errorResponses(400, 401, 404, 429) },
        detail: {
          summary:
            'Attempts to this destination, newest first (time, status, latency, first bytes)',
          tags: ['destinations'],
        },
      },
    )
    .post(
      '/:id/retry-dead',
      async ({ params }) => {
        const requeued = await mapped(() => retryDeadJobs(ctx.database, params.id))
        ctx.log.info({ msg: 'dead forward jobs requeued', destination: params.id, requeued })
        return { requeued }
      },
      {
        params: DestinationIdParams,
        response: { 200: RetryDeadOut, ...errorResponses(400, 401, 404, 429) },
        detail: {
          summary: "Put the destination's dead jobs back in the queue, with a fresh retry window",
          tags: ['destinations'],
        },
      },
    )
    .post(
      '/:id/resend',
      async ({ params, body, status }) => {
        const state = await mapped(() => resendEvent(ctx.database, params.id, body.event_id))
        return status(202, { event_id: body.event_id, destination_id: params.id, status: state })
      },
      {
        params: DestinationIdParams,
        body: ResendBody,
        response: { 202: ResendOut, ...errorResponses(400, 401, 404, 415, 429) },
        detail: {
          summary: 'Send one stored event to this destination again (same webhook-id)',
          tags: ['destinations'],
        },
      },
    )
