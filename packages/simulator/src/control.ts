/**
 * @module control
 * The control API under `/_sim`: what a phone user or a Telerivet web-app user would do, plus the
 * clock and the delivery log, so that tests in any language can drive the simulator over HTTP.
 */
import { type Static, type TSchema, Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { CONTACT_UPDATE_TYPES, METADATA_UPDATE_TYPES } from '@telehook/protocol'
import { invalidParam, readJsonBody, SimError } from './errors.ts'
import { projectView } from './payloads.ts'
import type { SimulatorFace } from './types.ts'

const VarValue = Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()])
const Str = (opts = {}) => Type.String({ minLength: 1, ...opts })

/** `POST /_sim/incoming`. */
export const IncomingBody = Type.Object({
  project_id: Type.Optional(Str()),
  from_number: Str(),
  to_number: Type.Optional(Str()),
  content: Type.String(),
  message_type: Type.Optional(
    Type.Union(['sms', 'mms', 'ussd', 'call', 'chat'].map((t) => Type.Literal(t))),
  ),
  media: Type.Optional(
    Type.Array(
      Type.Object({
        url: Str(),
        type: Type.Optional(Type.String()),
        filename: Type.Optional(Type.String()),
        size: Type.Optional(Type.Integer({ minimum: 0 })),
      }),
    ),
  ),
  phone_id: Type.Optional(Str()),
})
export type IncomingBody = Static<typeof IncomingBody>

/** `POST /_sim/broadcast`. */
export const BroadcastBody = Type.Object({
  project_id: Type.Optional(Str()),
  content: Str(),
  to_numbers: Type.Optional(Type.Array(Str())),
  contact_ids: Type.Optional(Type.Array(Str())),
  group_ids: Type.Optional(Type.Array(Str())),
  title: Type.Optional(Type.String()),
  route_id: Type.Optional(Str()),
})
export type BroadcastBody = Static<typeof BroadcastBody>

/** `POST /_sim/contacts`. */
export const AddContactBody = Type.Object({
  project_id: Type.Optional(Str()),
  phone_number: Str(),
  name: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  vars: Type.Optional(
    Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()])),
  ),
  group_ids: Type.Optional(Type.Array(Str())),
})
export type AddContactBody = Static<typeof AddContactBody>

/** `POST /_sim/contacts/:id`. */
export const UpdateContactBody = Type.Object({
  name: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  phone_number: Type.Optional(Str()),
  vars: Type.Optional(Type.Record(Type.String(), VarValue)),
  send_blocked: Type.Optional(Type.Boolean()),
  add_group_ids: Type.Optional(Type.Array(Str())),
  remove_group_ids: Type.Optional(Type.Array(Str())),
  update_type: Type.Optional(Type.Union(CONTACT_UPDATE_TYPES.map((t) => Type.Literal(t)))),
})
export type UpdateContactBody = Static<typeof UpdateContactBody>

/** `POST /_sim/messages/:id/metadata`. */
export const MetadataBody = Type.Object({
  update_type: Type.Union(METADATA_UPDATE_TYPES.map((t) => Type.Literal(t))),
  label_id: Type.Optional(Str()),
  name: Type.Optional(Str()),
  value: Type.Optional(VarValue),
})
export type MetadataBody = Static<typeof MetadataBody>

/** `POST /_sim/messages/:id/status`. */
export const StatusBody = Type.Object({
  status: Type.Union(
    ['queued', 'sent', 'delivered', 'not_delivered', 'failed', 'failed_queued', 'cancelled'].map(
      (s) => Type.Literal(s),
    ),
  ),
  error_message: Type.Optional(Type.Union([Type.String(), Type.Null()])),
})
export type StatusBody = Static<typeof StatusBody>

/** `POST /_sim/projects/:id/webhook`. */
export const ProjectWebhookBody = Type.Object({
  url: Str(),
  secret: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  events: Type.Optional(
    Type.Object({
      send_status: Type.Optional(Type.Boolean()),
      send_broadcast: Type.Optional(Type.Boolean()),
      contact_update: Type.Optional(Type.Boolean()),
      message_metadata: Type.Optional(Type.Boolean()),
    }),
  ),
})
export type ProjectWebhookBody = Static<typeof ProjectWebhookBody>

/** `POST /_sim/projects`. */
export const ProjectBody = Type.Object({
  id: Type.Optional(Str({ maxLength: 34 })),
  name: Type.Optional(Str()),
  api_key: Type.Optional(Str()),
})
export type ProjectBody = Static<typeof ProjectBody>

/** `POST /_sim/groups`. */
export const GroupBody = Type.Object({ project_id: Type.Optional(Str()), name: Str() })
export type GroupBody = Static<typeof GroupBody>

/** `POST /_sim/advance`. */
export const AdvanceBody = Type.Object({ ms: Type.Number({ minimum: 0 }) })
export type AdvanceBody = Static<typeof AdvanceBody>

const checkers = new Map<TSchema, ReturnType<typeof TypeCompiler.Compile>>()
for (const s of [
  IncomingBody,
  BroadcastBody,
  AddContactBody,
  UpdateContactBody,
  MetadataBody,
  StatusBody,
  ProjectWebhookBody,
  ProjectBody,
  GroupBody,
  AdvanceBody,
]) {
  checkers.set(s, TypeCompiler.Compile(s))
}

async function body<T extends TSchema>(req: Request, schema: T): Promise<Static<T>> {
  const value = await readJsonBody(req)
  const check = checkers.get(schema)
  if (check === undefined) throw new Error('schema not compiled')
  if (!check.Check(value)) {
    const first = check.Errors(value).First()
    const param = first?.path.replace(/^\//, '').replaceAll('/', '.') ?? ''
    throw new SimError(
      400,
      'invalid_param',
      `${param || 'body'}: ${first?.message ?? 'invalid'}`,
      param || undefined,
    )
  }
  return value as Static<T>
}

/** Serves `/_sim/...`. */
export async function handleControl(sim: SimulatorFace, req: Request, url: URL): Promise<Response> {
  const parts = url.pathname
    .split('/')
    .filter((s) => s !== '')
    .slice(1)
    .map(decodeURIComponent)
  const method = req.method
  const route = `${method} /${parts.map((p, i) => (i % 2 === 1 ? ':' : p)).join('/')}`
  const id = parts[1] ?? ''
  const q = url.searchParams
  const projectOf = (p: string | undefined) => p ?? q.get('project_id') ?? sim.projectId

  switch (route) {
    case 'GET /':
      return Response.json({
        project_id: sim.projectId,
        api_key: sim.apiKey,
        now: sim.now(),
        time_scale: sim.scheduler.timeScale,
        manual_clock: sim.scheduler.manual,
      })
    case 'POST /incoming': {
      const b = await body(req, IncomingBody)
      return Response.json(await sim.incomingMessage(b))
    }
    case 'POST /broadcast': {
      const b = await body(req, BroadcastBody)
      return Response.json(await sim.broadcast(projectOf(b.project_id), b))
    }
    case 'GET /contacts':
      return Response.json({ data: sim.contacts(projectOf(undefined)) })
    case 'POST /contacts': {
      const b = await body(req, AddContactBody)
      return Response.json(await sim.addContact(projectOf(b.project_id), b))
    }
    case 'GET /contacts/:':
      return Response.json(sim.contact(id))
    case 'POST /contacts/:': {
      const b = await body(req, UpdateContactBody)
      return Response.json(await sim.updateContact(id, b))
    }
    case 'DELETE /contacts/:':
      return Response.json(await sim.deleteContact(id))
    case 'GET /contacts/:/state': {
      const serviceId = q.get('service_id')
      if (serviceId === null) throw invalidParam('service_id', 'service_id is required')
      sim.contact(id)
      return Response.json(sim.serviceState(id, serviceId) ?? null)
    }
    case 'POST /groups': {
      const b = await body(req, GroupBody)
      return Response.json(sim.group(projectOf(b.project_id), b.name))
    }
    case 'GET /messages':
      return Response.json({ data: sim.messages(q.get('project_id') ?? undefined) })
    case 'GET /messages/:':
      return Response.json(sim.message(id))
    case 'POST /messages/:/metadata': {
      const b = await body(req, MetadataBody)
      return Response.json(await sim.messageMetadata(id, b))
    }
    case 'POST /messages/:/status': {
      const b = await body(req, StatusBody)
      const m = sim.message(id)
      if (m.direction !== 'outgoing') {
        throw invalidParam('id', 'Only outgoing messages have a send status')
      }
      const delivery = await sim.changeStatus(m, b.status, b.error_message ?? null)
      return Response.json({ message: m, delivery })
    }
    case 'POST /messages/:/click':
      return Response.json({ message: sim.message(id), delivery: await sim.clickMessage(id) })
    case 'POST /projects': {
      const b = await body(req, ProjectBody)
      const p = sim.createProject({
        ...(b.id === undefined ? {} : { id: b.id }),
        ...(b.name === undefined ? {} : { name: b.name }),
        ...(b.api_key === undefined ? {} : { apiKey: b.api_key }),
      })
      return Response.json(projectInfo(sim, p.project.id))
    }
    case 'GET /projects/:':
      return Response.json(projectInfo(sim, id))
    case 'POST /projects/:/webhook': {
      const b = await body(req, ProjectWebhookBody)
      return Response.json(
        sim.setProjectWebhook(id, {
          url: b.url,
          ...(b.secret === undefined ? {} : { secret: b.secret }),
          ...(b.events === undefined ? {} : { events: b.events }),
        }),
      )
    }
    case 'DELETE /projects/:/webhook':
      sim.setProjectWebhook(id, null)
      return Response.json(null)
    case 'GET /deliveries': {
      const status = q.get('status')
      if (status !== null && !['pending', 'delivered', 'failed'].includes(status)) {
        throw new SimError(
          400,
          'invalid_param',
          'status must be pending, delivered or failed',
          'status',
        )
      }
      return Response.json({
        data: sim.deliveries({
          ...(q.get('event') === null ? {} : { event: q.get('event') as string }),
          ...(status === null ? {} : { status: status as 'pending' | 'delivered' | 'failed' }),
        }),
      })
    }
    case 'POST /advance': {
      const b = await body(req, AdvanceBody)
      await sim.advance(b.ms)
      return Response.json({ now: sim.now(), pending: sim.scheduler.pending() })
    }
    case 'POST /settle':
      await sim.settle()
      return Response.json({ now: sim.now(), pending: sim.scheduler.pending() })
  }
  throw new SimError(404, 'not_found', `No control route ${method} ${url.pathname}`)
}

function projectInfo(sim: SimulatorFace, projectId: string) {
  const p = sim.project(projectId)
  return {
    project: projectView(p.project),
    api_keys: [...p.apiKeys],
    webhook: p.webhook,
    phones: sim.phones(projectId),
    services: sim.services(projectId),
  }
}
