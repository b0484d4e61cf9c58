/** @module Project routes: onboard, list, read, delete, and the project-level webhook. */
import { Elysia } from 'elysia'
import type { AdminContext } from '../../context'
import {
  CreateProjectBody,
  ProjectDeleted,
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
        response: { 200: ProjectOut, 201: ProjectOut },
        detail: {
          summary: 'Onboard a Telerivet project (checks the key; stores it encrypted)',
          tags: ['projects'],
        },
      },
    )
    .get('', async () => ({ data: (await listProjects(ctx)).map(projectOut) }), {
      response: { 200: ProjectList },
      detail: { summary: 'List projects', tags: ['projects'] },
    })
    .get('/:id', async ({ params }) => projectOut(await getProject(ctx, params.id)), {
      response: { 200: ProjectOut },
      detail: { summary: 'Get a project', tags: ['projects'] },
    })
    .delete('/:id', ({ params }) => deleteProject(ctx, params.id), {
      response: { 200: ProjectDeleted },
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
        response: { 200: ProjectWebhookOut, 201: ProjectWebhookOut },
        detail: {
          summary:
            'Endpoint for project-level notifications: paste URL and secret into Telerivet project settings',
          tags: ['projects'],
        },
      },
    )
