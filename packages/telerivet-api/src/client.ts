/** @module A typed fetch client of the Telerivet REST calls Telehook uses (web standards only). */
import { TypeCompiler } from '@sinclair/typebox/compiler'
import { TelerivetApiError } from './errors'
import {
  type CreateServiceBody,
  Message,
  type Page,
  PageEnvelope,
  Project,
  type QueryServicesParams,
  type SendMessageBody,
  Service,
  type UpdateServiceBody,
} from './types'

export const DEFAULT_BASE_URL = 'https://api.telerivet.com/v1'

export interface TelerivetClientOptions {
  /** The project's API key; sent as the Basic auth user with an empty password. */
  apiKey: string
  /** Default `https://api.telerivet.com/v1`; point it at the simulator in tests. */
  baseUrl?: string
  /** Per attempt, default 10 000 ms. */
  timeoutMs?: number
  /** Extra attempts for idempotent calls after a network error, timeout, 429 or 5xx (default 2). */
  retries?: number
  /** First backoff delay, doubled per attempt with jitter (default 250 ms). */
  retryDelayMs?: number
  /** Upper bound of one backoff delay, also for Retry-After (default 5 000 ms). */
  maxRetryDelayMs?: number
  /** Gzip JSON bodies of 400 bytes or more, as the official clients do (default false). */
  gzip?: boolean
  fetch?: typeof fetch
}

/** Per-call options. */
export interface CallOptions {
  signal?: AbortSignal
}

export interface TelerivetClient {
  readonly baseUrl: string
  /** `GET /projects/{id}`: also the check that a key and project id belong together. */
  getProject(projectId: string, opts?: CallOptions): Promise<Project>
  /** `POST /projects/{id}/services` — not retried: a retry could create a second service. */
  createService(projectId: string, body: CreateServiceBody, opts?: CallOptions): Promise<Service>
  getService(projectId: string, serviceId: string, opts?: CallOptions): Promise<Service>
  /** One page of services; pass `marker` from the previous page's `next_marker`. */
  queryServicesPage(
    projectId: string,
    params?: QueryServicesParams,
    opts?: CallOptions,
  ): Promise<Page<Service>>
  /** Every service, fetching pages lazily with `marker`/`next_marker`. */
  queryServices(
    projectId: string,
    params?: QueryServicesParams,
    opts?: CallOptions,
  ): AsyncIterable<Service>
  /** `service.save`: sets the given fields (a set, so safe to retry). */
  updateService(
    projectId: string,
    serviceId: string,
    body: UpdateServiceBody,
    opts?: CallOptions,
  ): Promise<Service>
  getServiceConfig(
    projectId: string,
    serviceId: string,
    opts?: CallOptions,
  ): Promise<Record<string, unknown>>
  setServiceConfig(
    projectId: string,
    serviceId: string,
    config: Record<string, unknown>,
    opts?: CallOptions,
  ): Promise<Record<string, unknown>>
  /** Deletes a service; a `not_found` on a retry counts as done (the first attempt got through). */
  deleteService(projectId: string, serviceId: string, opts?: CallOptions): Promise<void>
  /** `POST /projects/{id}/messages/send` — not retried: a retry could send twice. */
  sendMessage(projectId: string, body: SendMessageBody, opts?: CallOptions): Promise<Message>
}

interface RequestSpec {
  method: 'GET' | 'POST' | 'DELETE'
  path: string
  query?: Record<string, unknown>
  body?: unknown
  idempotent: boolean
  signal?: AbortSignal | undefined
}

const checkProject = TypeCompiler.Compile(Project)
const checkService = TypeCompiler.Compile(Service)
const checkMessage = TypeCompiler.Compile(Message)
const checkPage = TypeCompiler.Compile(PageEnvelope)

function base64(bytes: Uint8Array): string {
  let s = ''
  for (const b of bytes) s += String.fromCharCode(b)
  return btoa(s)
}

/** Encodes query parameters; one level of objects becomes bracket keys (`name[prefix]=x`). */
export function encodeQuery(params: Record<string, unknown>): string {
  const q = new URLSearchParams()
  const add = (key: string, value: unknown) => {
    if (value === undefined || value === null) return
    if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) add(`${key}[${i}]`, v)
    } else if (typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) add(`${key}[${k}]`, v)
    } else {
      q.append(key, String(value))
    }
  }
  for (const [k, v] of Object.entries(params)) add(k, v)
  const s = q.toString()
  return s ? `?${s}` : ''
}

const seg = (s: string) => encodeURIComponent(s)
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const t = setTimeout(resolve, ms)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t)
        reject(signal.reason)
      },
      { once: true },
    )
  })

async function gzipBytes(text: string): Promise<Uint8Array> {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'))
  return new Uint8Array(await new Response(stream).arrayBuffer())
}

// Retry-After travels beside the error rather than on it: it is a transport detail, not API data.
const retryAfterOf = new WeakMap<TelerivetApiError, string>()
function withRetryAfter(res: Response, err: TelerivetApiError): TelerivetApiError {
  const h = res.headers.get('retry-after')
  if (h !== null) retryAfterOf.set(err, h)
  return err
}

function snippet(text: string): string {
  const s = text.length > 200 ? `${text.slice(0, 200)}…` : text
  return JSON.stringify(s)
}

function isErrorEnvelope(
  x: unknown,
): x is { error: { code?: unknown; message?: unknown; param?: unknown } } {
  return (
    typeof x === 'object' &&
    x !== null &&
    'error' in x &&
    typeof (x as { error: unknown }).error === 'object' &&
    (x as { error: unknown }).error !== null
  )
}

function shapeError(what: string, status: number, body: unknown): TelerivetApiError {
  return new TelerivetApiError({
    code: 'invalid_response',
    message: `Telerivet API answered ${status} with an unexpected ${what}: ${snippet(JSON.stringify(body))}`,
    status,
  })
}

/**
 * Creates a client bound to one API key.
 *
 * @example
 * const tr = createTelerivetClient({ apiKey, baseUrl: 'http://127.0.0.1:8090/v1' })
 * const project = await tr.getProject('PJ123')
 * for await (const s of tr.queryServices('PJ123', { active: true })) console.log(s.id)
 */
export function createTelerivetClient(options: TelerivetClientOptions): TelerivetClient {
  const baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/\/+$/, '')
  const timeoutMs = options.timeoutMs ?? 10_000
  const retries = Math.max(0, options.retries ?? 2)
  const retryDelayMs = options.retryDelayMs ?? 250
  const maxRetryDelayMs = options.maxRetryDelayMs ?? 5_000
  const doFetch = options.fetch ?? ((input, init) => fetch(input, init))
  const authorization = `Basic ${base64(new TextEncoder().encode(`${options.apiKey}:`))}`

  function backoff(attempt: number, retryAfter: string | null): number {
    if (retryAfter !== null) {
      const secs = Number(retryAfter)
      if (Number.isFinite(secs) && secs >= 0) return Math.min(secs * 1000, maxRetryDelayMs)
    }
    const exp = retryDelayMs * 2 ** attempt
    return Math.min(exp / 2 + Math.random() * (exp / 2), maxRetryDelayMs)
  }

  /** One attempt: returns the parsed JSON (null for an empty 2xx) or throws TelerivetApiError. */
  async function attempt(spec: RequestSpec): Promise<unknown> {
    const url = `${baseUrl}${spec.path}${spec.query ? encodeQuery(spec.query) : ''}`
    const headers = new Headers({ Authorization: authorization, Accept: 'application/json' })
    let body: BodyInit | undefined
    if (spec.body !== undefined) {
      const json = JSON.stringify(spec.body)
      headers.set('Content-Type', 'application/json')
      if (options.gzip && json.length >= 400) {
        headers.set('Content-Encoding', 'gzip')
        body = (await gzipBytes(json)) as Uint8Array<ArrayBuffer>
      } else {
        body = json
      }
    }
    const timeout = AbortSignal.timeout(timeoutMs)
    const signal = spec.signal ? AbortSignal.any([spec.signal, timeout]) : timeout
    let res: Response
    let text: string
    try {
      res = await doFetch(url, { method: spec.method, headers, body, signal, redirect: 'manual' })
      text = await res.text()
    } catch (err) {
      if (spec.signal?.aborted) throw spec.signal.reason
      if (timeout.aborted) {
        throw new TelerivetApiError(
          {
            code: 'timeout',
            message: `Telerivet API did not answer ${spec.method} ${spec.path} within ${timeoutMs} ms`,
            status: 0,
          },
          { cause: err },
        )
      }
      throw new TelerivetApiError(
        {
          code: 'network_error',
          message: `Telerivet API unreachable at ${baseUrl}: ${err instanceof Error ? err.message : String(err)}`,
          status: 0,
        },
        { cause: err },
      )
    }
    let parsed: unknown = null
    if (text.trim() !== '') {
      try {
        parsed = JSON.parse(text)
      } catch {
        const type = res.headers.get('content-type') ?? 'no content type'
        throw new TelerivetApiError({
          code: 'invalid_response',
          message: `Telerivet API answered ${res.status} with non-JSON (${type}): ${snippet(text)}`,
          status: res.status,
        })
      }
    }
    if (isErrorEnvelope(parsed)) {
      const e = parsed.error
      throw withRetryAfter(
        res,
        new TelerivetApiError({
          code: typeof e.code === 'string' ? e.code : 'http_error',
          message: typeof e.message === 'string' ? e.message : `HTTP ${res.status}`,
          param: typeof e.param === 'string' ? e.param : null,
          status: res.ok ? 500 : res.status,
        }),
      )
    }
    if (!res.ok) {
      throw withRetryAfter(
        res,
        new TelerivetApiError({
          code: 'http_error',
          message: `Telerivet API answered ${res.status} without an error body: ${snippet(text)}`,
          status: res.status,
        }),
      )
    }
    return parsed
  }

  function retryable(err: unknown): boolean {
    if (!(err instanceof TelerivetApiError)) return false
    return err.status === 0 || err.status === 429 || err.status >= 500
  }

  async function request(spec: RequestSpec, tolerate?: (err: unknown) => boolean) {
    const maxAttempts = spec.idempotent ? retries + 1 : 1
    for (let i = 0; ; i++) {
      try {
        return await attempt(spec)
      } catch (err) {
        if (i > 0 && tolerate?.(err)) return null
        if (i + 1 >= maxAttempts || !retryable(err)) throw err
        const retryAfter = retryAfterOf.get(err as TelerivetApiError) ?? null
        await sleep(backoff(i, retryAfter), spec.signal)
      }
    }
  }

  function decode<T>(
    check: { Check(x: unknown): x is T },
    what: string,
    status: number,
    x: unknown,
  ): T {
    if (!check.Check(x)) throw shapeError(what, status, x)
    return x
  }

  const svcPath = (p: string, s: string) => `/projects/${seg(p)}/services/${seg(s)}`

  async function queryServicesPage(
    projectId: string,
    params: QueryServicesParams = {},
    opts?: CallOptions,
  ): Promise<Page<Service>> {
    const body = await request({
      method: 'GET',
      path: `/projects/${seg(projectId)}/services`,
      query: { ...params },
      idempotent: true,
      signal: opts?.signal,
    })
    const page = decode(checkPage, 'page', 200, body)
    const data = page.data.map((s) => decode(checkService, 'service', 200, s))
    return { data, truncated: page.truncated ?? false, next_marker: page.next_marker ?? null }
  }

  return {
    baseUrl,
    async getProject(projectId, opts) {
      const body = await request({
        method: 'GET',
        path: `/projects/${seg(projectId)}`,
        idempotent: true,
        signal: opts?.signal,
      })
      return decode(checkProject, 'project', 200, body)
    },
    async createService(projectId, body, opts) {
      const res = await request({
        method: 'POST',
        path: `/projects/${seg(projectId)}/services`,
        body,
        idempotent: false,
        signal: opts?.signal,
      })
      return decode(checkService, 'service', 200, res)
    },
    async getService(projectId, serviceId, opts) {
      const res = await request({
        method: 'GET',
        path: svcPath(projectId, serviceId),
        idempotent: true,
        signal: opts?.signal,
      })
      return decode(checkService, 'service', 200, res)
    },
    queryServicesPage,
    queryServices(projectId, params = {}, opts) {
      return {
        async *[Symbol.asyncIterator]() {
          let marker = params.marker
          for (;;) {
            const page = await queryServicesPage(projectId, { ...params, marker }, opts)
            yield* page.data
            // Stop on a missing marker too, so a server that says truncated without one cannot loop us.
            if (!page.truncated || !page.next_marker || page.next_marker === marker) return
            marker = page.next_marker
          }
        },
      }
    },
    async updateService(projectId, serviceId, body, opts) {
      const res = await request({
        method: 'POST',
        path: svcPath(projectId, serviceId),
        body,
        idempotent: true,
        signal: opts?.signal,
      })
      return decode(checkService, 'service', 200, res)
    },
    async getServiceConfig(projectId, serviceId, opts) {
      const res = await request({
        method: 'GET',
        path: `${svcPath(projectId, serviceId)}/config`,
        idempotent: true,
        signal: opts?.signal,
      })
      if (typeof res !== 'object' || res === null || Array.isArray(res)) {
        throw shapeError('config', 200, res)
      }
      return res as Record<string, unknown>
    },
    async setServiceConfig(projectId, serviceId, config, opts) {
      const res = await request({
        method: 'POST',
        path: `${svcPath(projectId, serviceId)}/config`,
        body: config,
        idempotent: true,
        signal: opts?.signal,
      })
      return typeof res === 'object' && res !== null ? (res as Record<string, unknown>) : {}
    },
    async deleteService(projectId, serviceId, opts) {
      await request(
        {
          method: 'DELETE',
          path: svcPath(projectId, serviceId),
          idempotent: true,
          signal: opts?.signal,
        },
        (err) => err instanceof TelerivetApiError && err.code === 'not_found',
      )
    },
    async sendMessage(projectId, body, opts) {
      const res = await request({
        method: 'POST',
        path: `/projects/${seg(projectId)}/messages/send`,
        body,
        idempotent: false,
        signal: opts?.signal,
      })
      return decode(checkMessage, 'message', 200, res)
    },
  }
}
