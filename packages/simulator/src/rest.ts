/**
 * @module rest
 * The subset of Telerivet's REST API v1 the project calls: projects, services (with paging) and
 * `messages/send`, behind HTTP Basic auth (user = API key, empty password).
 */
import { SERVICE_CONTEXTS } from '@telehook/protocol'
import { invalidParam, readJsonBody, SimError } from './errors.ts'
import type { Service } from './model.ts'
import { projectView } from './payloads.ts'
import type { SimulatorFace } from './types.ts'

/** Largest `page_size` Telerivet accepts. */
export const MAX_PAGE_SIZE = 500
/** `page_size` when none is given. */
export const DEFAULT_PAGE_SIZE = 50

/** The API key of a Basic `Authorization` header, or null. */
export function apiKeyOf(req: Request): string | null {
  const h = req.headers.get('authorization')
  if (h === null) return null
  const m = /^Basic\s+(\S+)$/i.exec(h.trim())
  if (m === null) return null
  let decoded: string
  try {
    decoded = atob(m[1] as string)
  } catch {
    return null
  }
  const colon = decoded.indexOf(':')
  const user = colon === -1 ? decoded : decoded.slice(0, colon)
  return user === '' ? null : user
}

/** Serves `/v1/...`. */
export async function handleRest(sim: SimulatorFace, req: Request, url: URL): Promise<Response> {
  const key = apiKeyOf(req)
  if (key === null) {
    throw new SimError(
      401,
      'unauthorized',
      req.headers.has('authorization')
        ? 'Use HTTP Basic auth with the API key as the user and an empty password'
        : 'API key is required (HTTP Basic auth, key as the user)',
    )
  }
  const allowed = sim.projectIdsForKey(key)
  if (allowed.length === 0) throw new SimError(401, 'unauthorized', 'Invalid API key')
  const parts = url.pathname
    .split('/')
    .filter((s) => s !== '')
    .slice(1)
  const method = req.method
  if (parts[0] !== 'projects' || parts[1] === undefined) throw notFound(method, url)
  const projectId = decodeURIComponent(parts[1])
  // A key never reveals other projects: unknown and foreign look the same.
  if (!allowed.includes(projectId)) {
    throw new SimError(404, 'not_found', `Project ${projectId} not found`)
  }
  const rest = parts.slice(2)
  if (rest.length === 0) {
    if (method === 'GET') return Response.json(projectView(sim.project(projectId).project))
    throw notAllowed(method, url)
  }
  if (rest[0] === 'services') {
    if (rest.length === 1) {
      if (method === 'GET')
        return Response.json(queryServices(sim.services(projectId), url.searchParams))
      if (method === 'POST')
        return Response.json(sim.createService(projectId, await readJsonBody(req)))
      throw notAllowed(method, url)
    }
    const serviceId = decodeURIComponent(rest[1] as string)
    if (rest.length === 2) {
      if (method === 'GET') return Response.json(sim.service(projectId, serviceId))
      if (method === 'POST' || method === 'PUT') {
        return Response.json(sim.updateService(projectId, serviceId, await readJsonBody(req)))
      }
      if (method === 'DELETE') {
        sim.deleteService(projectId, serviceId)
        return Response.json({})
      }
      throw notAllowed(method, url)
    }
    if (rest.length === 3 && rest[2] === 'config') {
      if (method === 'GET') return Response.json(sim.serviceConfig(projectId, serviceId))
      if (method === 'POST' || method === 'PUT') {
        return Response.json(sim.setServiceConfig(projectId, serviceId, await readJsonBody(req)))
      }
      throw notAllowed(method, url)
    }
  }
  if (rest[0] === 'messages' && rest[1] === 'send' && rest.length === 2) {
    if (method === 'POST') return Response.json(sim.sendMessage(projectId, await readJsonBody(req)))
    throw notAllowed(method, url)
  }
  throw notFound(method, url)
}

function notFound(method: string, url: URL): SimError {
  return new SimError(404, 'not_found', `No API method ${method} ${url.pathname}`)
}

function notAllowed(method: string, url: URL): SimError {
  return new SimError(405, 'method_not_allowed', `${method} is not allowed on ${url.pathname}`)
}

function intParam(q: URLSearchParams, name: string, min: number, max: number): number | undefined {
  const raw = q.get(name)
  if (raw === null || raw === '') return undefined
  const n = Number(raw)
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new SimError(
      400,
      'invalid_param',
      `${name} must be an integer from ${min} to ${max}`,
      name,
    )
  }
  return n
}

const MARKER_PREFIX = 'o:'

/** The opaque marker of the page that starts at `offset`. */
export function markerFor(offset: number): string {
  return btoa(`${MARKER_PREFIX}${offset}`).replaceAll('=', '')
}

function offsetOfMarker(marker: string): number {
  try {
    const s = atob(marker)
    if (s.startsWith(MARKER_PREFIX)) {
      const n = Number(s.slice(MARKER_PREFIX.length))
      if (Number.isInteger(n) && n >= 0) return n
    }
  } catch {}
  throw invalidParam('marker', 'Invalid marker')
}

type NameFilter = (name: string) => boolean

function nameFilters(q: URLSearchParams): NameFilter[] {
  const filters: NameFilter[] = []
  for (const [key, value] of q) {
    if (key === 'name') filters.push((n) => n === value)
    const m = /^name\[(\w+)\]$/.exec(key)
    if (m === null) continue
    switch (m[1]) {
      case 'ne':
        filters.push((n) => n !== value)
        break
      case 'prefix':
        filters.push((n) => n.startsWith(value))
        break
      case 'not_prefix':
        filters.push((n) => !n.startsWith(value))
        break
      case 'gte':
        filters.push((n) => n >= value)
        break
      case 'gt':
        filters.push((n) => n > value)
        break
      case 'lt':
        filters.push((n) => n < value)
        break
      case 'lte':
        filters.push((n) => n <= value)
        break
      case 'exists':
        // Service names are never empty, so the filter keeps all or none.
        filters.push(() => value === '1' || value === 'true')
        break
      default:
        throw invalidParam(key, `Unknown modifier name[${m[1]}]`)
    }
  }
  return filters
}

/** `queryServices`: filters, sorting and paging as Telerivet's `query*` calls do them. */
export function queryServices(
  services: Service[],
  q: URLSearchParams,
): { count: number } | { data: Service[]; truncated: boolean; next_marker: string | null } {
  let list = services
  for (const f of nameFilters(q)) list = list.filter((s) => f(s.name))
  const active = q.get('active')
  if (active !== null && active !== '') {
    const want = active === '1' || active === 'true'
    if (!want && active !== '0' && active !== 'false') {
      throw invalidParam('active', 'active must be true or false')
    }
    list = list.filter((s) => s.active === want)
  }
  const context = q.get('context')
  if (context !== null && context !== '') {
    if (!(SERVICE_CONTEXTS as readonly string[]).includes(context)) {
      throw invalidParam('context', `Invalid context: ${context}`)
    }
    list = list.filter((s) => context in s.contexts)
  }
  const sort = q.get('sort') ?? 'default'
  const dir = q.get('sort_dir') ?? 'asc'
  if (dir !== 'asc' && dir !== 'desc') {
    throw invalidParam('sort_dir', "sort_dir must be 'asc' or 'desc'")
  }
  if (sort === 'priority') list = [...list].sort((a, b) => a.priority - b.priority)
  else if (sort === 'name')
    list = [...list].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  else if (sort !== 'default') throw invalidParam('sort', `Invalid sort: ${sort}`)
  if (dir === 'desc') list = [...list].reverse()
  if (q.get('count') === '1' || q.get('count') === 'true') return { count: list.length }
  const pageSize = intParam(q, 'page_size', 1, MAX_PAGE_SIZE) ?? DEFAULT_PAGE_SIZE
  const marker = q.get('marker')
  const offset =
    marker !== null && marker !== ''
      ? offsetOfMarker(marker)
      : (intParam(q, 'offset', 0, Number.MAX_SAFE_INTEGER) ?? 0)
  const data = list.slice(offset, offset + pageSize)
  const truncated = offset + pageSize < list.length
  return { data, truncated, next_marker: truncated ? markerFor(offset + pageSize) : null }
}
