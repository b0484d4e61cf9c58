/** @module Project routes: onboard, list, read, delete, and the project-level webhook. */
import { Elysia } from 'elysia'
import type { AdminContext } from '../../context'
import { errorResponses } from '../../errors'
import {
  CreateProjectBody,
  ProjectDeleted,
  ProjectIdParams,
  ProjectList,
  ProjectOut,
  ProjectWebhookOut,
} from './model'
import {
  deleteProject,
  getProject,
  listProjects,
  projectOut,
  projectWebhook,
  saveProject,
} from './service'

export const projectsModule = (ctx: AdminContext) =>
  new Elysia({ name: 'telehook-admin/projects', prefix: '/v1/projects' })
    .post(
      '',
      async ({ body, status }) => {
        const { row, created } = await saveProject(ctx, body)
        return status(created ? 201 : 200, projectOut(row))
      },
      {
        body: CreateProjectBody,
        response: { 200: ProjectOut, 201: ProjectOut, ...errorResponses(400, 401, 415, 429, 502) },
        detail: {
          summary: 'Onboard a Telerivet project (checks the key; stores it encrypted)',
          tags: ['projects'],
        },
      },
    )
    .get('', async () => ({ data: (await listProjects(ctx)).map(projectOut) }), {
      response: { 200: ProjectList, ...errorResponses(401, 429) },
      detail: { summary: 'List projects', tags: ['projects'] },
    })
    .get('/:id', async ({ params }) => projectOut(await getProject(ctx, params.id)), {
      params: ProjectIdParams,
      response: { 200: ProjectOut, ...errorResponses(400, 401, 404, 429) },
      detail: { summary: 'Get a project', tags: ['projects'] },
    })
    .delete('/:id', ({ params }) => deleteProject(ctx, params.id), {
      params: ProjectIdParams,
      response: { 200: ProjectDeleted, ...errorResponses(400, 401, 404, 409, 429, 502) },
      detail: {
        summary: 'Delete a project: its services on Telerivet, its endpoints here, its key',
        tags: ['projects'],
      },
    })
    .post(
      '/:id/project-webhook',
      async ({ params, status }) => {
        const { created, out } = await projectWebhook(ctx, params.id)
        return status(created ? 201 : 200, out)
      },
      {
        params: ProjectIdParams,
        response: {
          200: ProjectWebhookOut,
          201: ProjectWebhookOut,
          ...errorResponses(400, 401, 404, 429),
        },
        detail: {
          summary:
            'Endpoint for project-level notifications: paste URL and secret into Telerivet project settings',
          tags: ['projects'],
        },
      },
    )
