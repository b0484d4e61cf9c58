/**
 * @module The console: web pages on the admin port (`/` and `/console/…`) to watch events,
 * conversations and jobs and act on them. Signing in exchanges an admin token for a session
 * cookie; every form that changes something carries the session's CSRF token.
 */

import { Type } from '@sinclair/typebox'
import type { Database } from '@telehook/db'
import { EventNotFoundError, replayEvent } from '@telehook/engine'
import { Elysia } from 'elysia'
import type { AdminContext } from '../../context'
import { ApiError } from '../../errors'
import { JobIdParams, JobState } from '../jobs/model'
import {
  cancelJob,
  deadJobsByHandler,
  listJobs,
  retryDeadJob,
  retryDeadJobsOf,
} from '../jobs/service'
import { OverviewRange } from '../overview/model'
import { overview } from '../overview/service'
import { getProject, listProjects, projectWebhook, saveProject } from '../projects/service'
import { createService, listServices, rotateServiceSecret } from '../services/service'
import { verifyAdminToken } from '../tokens/service'
import { answerClasses } from './answers'
import { CSS, SCRIPT } from './assets'
import { createEventFeed, eventStream } from './feed'
import { flashOf, type PageOptions } from './layout'
import {
  conversationsPage,
  EVENT_TYPES,
  eventPage,
  eventRow,
  eventsPage,
  jobsPage,
  overviewPage,
  projectPage,
  projectsPage,
  signInPage,
  threadPage,
} from './pages'
import {
  type EventFilters,
  getEvent,
  jobsOfEvent,
  listEvents,
  matches,
  searchContacts,
  thread,
} from './queries'
import {
  type ConsoleSession,
  createSession,
  csrfMatches,
  endSession,
  findSession,
  isHttps,
  readCookie,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  sessionCookie,
} from './sessions'

/** The session the guard found for a request, read by the routes (CSRF token, logs). */
const sessions = new WeakMap<Request, ConsoleSession>()

/**
 * Every console page: never cached, never framed (no clickjacking of its buttons), scripts and
 * connections from this origin only, forms posted back here only.
 */
const HTML = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
}
const htmlResponse = (body: string, status = 200, headers: Record<string, string> = {}) =>
  new Response(body, { status, headers: { ...HTML, ...headers } })
const redirect = (to: string, headers: Record<string, string> = {}) =>
  new Response(null, {
    status: 303,
    headers: { location: to, 'cache-control': 'no-store', ...headers },
  })

/** Only a path of the console is a place to return to after signing in (no open redirect). */
function safeNext(next: unknown): string {
  return typeof next === 'string' &&
    /^\/(?!\/)[^\s\\]*$/.test(next) &&
    (next === '/' || next.startsWith('/console/'))
    ? next
    : '/'
}

const withMessage = (path: string, key: 'done' | 'error', text: string) =>
  `${path}${path.includes('?') ? '&' : '?'}${key}=${encodeURIComponent(text)}`

/**
 * The console's part of the admin app's request guard, for console paths that are not public:
 * a live session cookie lets the request through (the session is remembered for the routes);
 * without one, a page load is sent to the sign-in form and anything else gets 401.
 */
export function consoleGuard(database: Database) {
  return async (request: Request): Promise<Response | undefined> => {
    const session = await findSession(
      database,
      readCookie(request.headers.get('cookie'), SESSION_COOKIE),
    )
    if (session) {
      sessions.set(request, session)
      return undefined
    }
    if (request.method === 'GET' || request.method === 'HEAD') {
      const url = new URL(request.url)
      const next =
        url.pathname === '/' && !url.search
          ? ''
          : `?next=${encodeURIComponent(url.pathname + url.search)}`
      return redirect(`/console/sign-in${next}`)
    }
    return htmlResponse(
      '<!doctype html><title>Signed out</title><p>Your console session has ended. <a href="/console/sign-in">Sign in</a></p>',
      401,
    )
  }
}

const EventFilterQuery = Type.Object({
  event: Type.Optional(Type.String({ maxLength: 100 })),
  valid: Type.Optional(Type.Union([Type.Literal('true'), Type.Literal('false'), Type.Literal('')])),
  project_id: Type.Optional(Type.String({ maxLength: 100 })),
  endpoint_id: Type.Optional(Type.String({ maxLength: 100 })),
  since: Type.Optional(Type.String({ maxLength: 40 })),
  until: Type.Optional(Type.String({ maxLength: 40 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
  done: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
})

const Uuid = Type.Object({ id: Type.String({ format: 'uuid' }) })
const Csrf = Type.Object({ csrf: Type.Optional(Type.String()) })
const Flash = Type.Object({
  done: Type.Optional(Type.String()),
  error: Type.Optional(Type.String()),
})
const ProjectParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) })

function filtersOf(q: typeof EventFilterQuery.static): EventFilters {
  return {
    event: q.event || undefined,
    valid: q.valid || undefined,
    project_id: q.project_id || undefined,
    endpoint_id: q.endpoint_id || undefined,
    since: q.since || undefined,
    until: q.until || undefined,
  }
}

/**
 * The console plugin: pages, their actions, assets and the live log.
 * @example app.use(consoleModule(createContext(deps)))
 */
export function consoleModule(ctx: AdminContext) {
  const { database, deps, log } = ctx
  const feed = createEventFeed(database, log, deps.consoleLivePollMs)

  const sessionOf = (request: Request): ConsoleSession => {
    const s = sessions.get(request)
    // The guard runs first on every console path; reaching here without a session is a bug.
    if (!s) throw new ApiError(401, 'unauthorized', 'No console session')
    return s
  }
  const pageOpts = (
    request: Request,
    query: Record<string, string | undefined> = {},
  ): PageOptions => ({
    title: '',
    csrf: sessionOf(request).csrfToken,
    flash: flashOf(query),
  })

  return (
    new Elysia({ name: 'console' })
      // Every console POST but the sign-in carries the session's CSRF token (form field or header).
      .onBeforeHandle(({ request, body }) => {
        if (request.method === 'GET' || request.method === 'HEAD') return
        const path = new URL(request.url).pathname
        if (path === '/console/sign-in') return
        const session = sessions.get(request)
        if (!session) return
        const presented =
          request.headers.get('x-csrf-token') ??
          (body && typeof body === 'object' ? (body as { csrf?: unknown }).csrf : undefined)
        if (!csrfMatches(session, presented)) {
          log.warn({ msg: 'console request without a valid CSRF token', path })
          return htmlResponse(
            '<!doctype html><title>Refused</title><p>This form was not sent from the console page (missing or wrong CSRF token). Go back, reload and try again.</p>',
            403,
          )
        }
      })
      .get(
        '/console/assets/console.css',
        () =>
          new Response(CSS, {
            headers: { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'max-age=300' },
          }),
        { detail: { hide: true } },
      )
      .get(
        '/console/assets/console.js',
        () =>
          new Response(SCRIPT, {
            headers: {
              'content-type': 'text/javascript; charset=utf-8',
              'cache-control': 'max-age=300',
            },
          }),
        { detail: { hide: true } },
      )
      .get(
        '/console/sign-in',
        async ({ request, query }) => {
          const s = await findSession(
            database,
            readCookie(request.headers.get('cookie'), SESSION_COOKIE),
          )
          if (s) return redirect(safeNext(query.next))
          return htmlResponse(signInPage(null, safeNext(query.next)))
        },
        { query: Type.Object({ next: Type.Optional(Type.String()) }), detail: { hide: true } },
      )
      .post(
        '/console/sign-in',
        async ({ request, body }) => {
          const name = await verifyAdminToken(database, deps.adminToken, body.token.trim())
          if (!name) {
            log.warn({ msg: 'console sign-in refused' })
            return htmlResponse(signInPage('That token is not valid.', safeNext(body.next)), 401)
          }
          const { cookieValue } = await createSession(database, name)
          log.info({ msg: 'console sign-in', token: name })
          return redirect(safeNext(body.next), {
            'set-cookie': sessionCookie(cookieValue, isHttps(request), SESSION_TTL_MS / 1000),
          })
        },
        {
          body: Type.Object({
            token: Type.String({ maxLength: 600 }),
            next: Type.Optional(Type.String()),
          }),
          detail: { hide: true },
        },
      )
      .post(
        '/console/sign-out',
        async ({ request }) => {
          const s = sessionOf(request)
          await endSession(database, s.idHash)
          log.info({ msg: 'console sign-out', token: s.tokenName })
          return redirect('/console/sign-in', {
            'set-cookie': sessionCookie('', isHttps(request), 0),
          })
        },
        { body: Csrf, detail: { hide: true } },
      )

      // ---- overview ----
      .get(
        '/',
        async ({ request, query }) =>
          htmlResponse(
            overviewPage(
              pageOpts(request, query),
              await overview(database, query.range ?? 'hour'),
              deps.metrics ? answerClasses(await deps.metrics()) : null,
            ),
          ),
        {
          query: Type.Object({
            range: Type.Optional(OverviewRange),
            done: Type.Optional(Type.String()),
            error: Type.Optional(Type.String()),
          }),
          detail: { hide: true },
        },
      )

      // ---- events ----
      .get(
        '/console/events',
        async ({ request, query }) => {
          const f = filtersOf(query)
          const result = await listEvents(database, f, query.cursor || undefined)
          if (!result)
            return htmlResponse(
              '<!doctype html><p>A time or the page link is not valid: write times as 2026-01-31T14:00 (UTC).</p>',
              400,
            )
          return htmlResponse(
            eventsPage(pageOpts(request, query), f, result.rows, result.next, !query.cursor),
          )
        },
        { query: EventFilterQuery, detail: { hide: true } },
      )
      .get(
        '/console/events/stream',
        ({ request, query }) => {
          const f = filtersOf(query)
          return eventStream(
            feed,
            (row) => matches(row, f),
            (row) => eventRow(row).value,
            deps.stopping ? AbortSignal.any([request.signal, deps.stopping]) : request.signal,
          )
        },
        { query: EventFilterQuery, detail: { hide: true } },
      )
      .get(
        '/console/events/:id',
        async ({ request, params, query }) => {
          const e = await getEvent(database, params.id)
          if (!e) return htmlResponse('<!doctype html><p>No such event.</p>', 404)
          return htmlResponse(
            eventPage(pageOpts(request, query), e, await jobsOfEvent(database, e.id)),
          )
        },
        {
          params: Uuid,
          query: Type.Object({
            done: Type.Optional(Type.String()),
            error: Type.Optional(Type.String()),
          }),
          detail: { hide: true },
        },
      )
      .post(
        '/console/events/:id/replay',
        async ({ params }) => {
          const back = `/console/events/${params.id}`
          try {
            const r = await replayEvent(database, params.id, deps.handlers)
            log.info({ msg: 'event replayed from the console', event_id: params.id, jobs: r.jobs })
            return redirect(
              withMessage(
                back,
                'done',
                `Replayed: projections ${r.applied ? 're-applied' : 'unchanged'}, ${r.jobs} job(s) enqueued.`,
              ),
            )
          } catch (error) {
            if (error instanceof EventNotFoundError)
              return htmlResponse('<!doctype html><p>No such event.</p>', 404)
            throw error
          }
        },
        { params: Uuid, body: Csrf, detail: { hide: true } },
      )

      // ---- conversations ----
      .get(
        '/console/conversations',
        async ({ request, query }) =>
          htmlResponse(
            conversationsPage(
              pageOpts(request),
              query.phone ?? '',
              await searchContacts(database, query.phone),
            ),
          ),
        {
          query: Type.Object({ phone: Type.Optional(Type.String({ maxLength: 40 })) }),
          detail: { hide: true },
        },
      )
      .get(
        '/console/conversations/:id',
        async ({ request, params, query }) => {
          const project = query.project ?? ''
          const t = await thread(database, project, params.id)
          return htmlResponse(threadPage(pageOpts(request), project, params.id, t.contact, t.items))
        },
        {
          params: Type.Object({ id: Type.String({ maxLength: 100 }) }),
          query: Type.Object({ project: Type.Optional(Type.String({ maxLength: 100 })) }),
          detail: { hide: true },
        },
      )

      // ---- projects and services ----
      .get(
        '/console/projects',
        async ({ request, query }) =>
          htmlResponse(projectsPage(pageOpts(request, query), await listProjects(ctx))),
        { query: Flash, detail: { hide: true } },
      )
      .post(
        '/console/projects',
        async ({ body }) => {
          try {
            const { row } = await saveProject(ctx, {
              project_id: body.project_id.trim(),
              api_key: body.api_key.trim(),
              ...(body.name?.trim() ? { name: body.name.trim() } : {}),
            })
            return redirect(
              withMessage(
                `/console/projects/${encodeURIComponent(row.id)}`,
                'done',
                `Project ${row.id} onboarded.`,
              ),
            )
          } catch (error) {
            if (error instanceof ApiError) {
              return redirect(withMessage('/console/projects', 'error', error.message))
            }
            throw error
          }
        },
        {
          body: Type.Object({
            csrf: Type.Optional(Type.String()),
            project_id: Type.String({ minLength: 1, maxLength: 64 }),
            api_key: Type.String({ minLength: 1, maxLength: 256 }),
            name: Type.Optional(Type.String({ maxLength: 200 })),
          }),
          detail: { hide: true },
        },
      )
      .get(
        '/console/projects/:id',
        async ({ request, params, query }) => {
          const p = await getProject(ctx, params.id).catch(() => null)
          if (!p) return htmlResponse('<!doctype html><p>No such project.</p>', 404)
          return htmlResponse(
            projectPage(pageOpts(request, query), p, await listServices(ctx, p), null),
          )
        },
        { params: ProjectParams, query: Flash, detail: { hide: true } },
      )
      .post(
        '/console/projects/:id/services',
        async ({ params, body }) => {
          const back = `/console/projects/${encodeURIComponent(params.id)}`
          try {
            const p = await getProject(ctx, params.id)
            const s = await createService(
              ctx,
              p,
              body.name?.trim() ? { name: body.name.trim() } : {},
            )
            return redirect(
              withMessage(back, 'done', `Service ${s.name ?? s.id} created on Telerivet.`),
            )
          } catch (error) {
            if (error instanceof ApiError)
              return redirect(withMessage(back, 'error', error.message))
            throw error
          }
        },
        {
          params: ProjectParams,
          body: Type.Object({
            csrf: Type.Optional(Type.String()),
            name: Type.Optional(Type.String({ maxLength: 200 })),
          }),
          detail: { hide: true },
        },
      )
      .post(
        '/console/projects/:id/services/:sid/rotate-secret',
        async ({ params }) => {
          const back = `/console/projects/${encodeURIComponent(params.id)}`
          try {
            const p = await getProject(ctx, params.id)
            const s = await rotateServiceSecret(ctx, p, params.sid, ctx.graceMs)
            const until = s.previous_secret_expires_at ?? 'now'
            return redirect(
              withMessage(
                back,
                'done',
                `New secret set on Telerivet for ${s.name ?? s.id} (Telehook sent it there; nothing to paste). The old one is accepted until ${until}.`,
              ),
            )
          } catch (error) {
            if (error instanceof ApiError)
              return redirect(withMessage(back, 'error', error.message))
            throw error
          }
        },
        {
          params: Type.Object({
            id: Type.String({ maxLength: 64 }),
            sid: Type.String({ maxLength: 64 }),
          }),
          body: Csrf,
          detail: { hide: true },
        },
      )
      .post(
        '/console/projects/:id/project-webhook',
        async ({ request, params }) => {
          const back = `/console/projects/${encodeURIComponent(params.id)}`
          try {
            const p = await getProject(ctx, params.id)
            const { out } = await projectWebhook(ctx, p.id)
            // Answered here, not redirected: the secret is in this one response and nowhere else.
            return htmlResponse(
              projectPage(
                { ...pageOpts(request), flash: null },
                p,
                await listServices(ctx, p),
                out,
              ),
            )
          } catch (error) {
            if (error instanceof ApiError)
              return redirect(withMessage(back, 'error', error.message))
            throw error
          }
        },
        { params: ProjectParams, body: Csrf, detail: { hide: true } },
      )

      // ---- jobs ----
      .get(
        '/console/jobs',
        async ({ request, query }) => {
          const filters = {
            state: query.state || undefined,
            handler: query.handler || undefined,
            event_id: query.event_id || undefined,
          }
          const [page, dead] = await Promise.all([
            listJobs(database, {
              ...(filters.state ? { state: filters.state } : {}),
              ...(filters.handler ? { handler: filters.handler } : {}),
              ...(filters.event_id ? { event_id: filters.event_id } : {}),
              ...(query.cursor ? { cursor: query.cursor } : {}),
            }),
            deadJobsByHandler(database),
          ])
          const deadOf = new Map(dead.map((d) => [d.handler, d.dead]))
          const names = [
            ...new Set([
              ...EVENT_TYPES,
              ...deadOf.keys(),
              ...(filters.handler ? [filters.handler] : []),
            ]),
          ]
          return htmlResponse(
            jobsPage(
              pageOpts(request, query),
              filters,
              page.data,
              page.next_cursor,
              names.map((handler) => ({ handler, dead: deadOf.get(handler) ?? 0 })),
            ),
          )
        },
        {
          query: Type.Object({
            state: Type.Optional(Type.Union([JobState, Type.Literal('')])),
            handler: Type.Optional(Type.String({ maxLength: 100 })),
            event_id: Type.Optional(
              Type.Union([Type.String({ format: 'uuid' }), Type.Literal('')]),
            ),
            cursor: Type.Optional(Type.String({ pattern: '^[0-9]{1,18}$' })),
            done: Type.Optional(Type.String()),
            error: Type.Optional(Type.String()),
          }),
          detail: { hide: true },
        },
      )
      .post(
        '/console/jobs/:id/retry',
        async ({ params }) => {
          try {
            const j = await retryDeadJob(database, Number(params.id))
            log.info({ msg: 'job retried from the console', job: j.id })
            return redirect(withMessage('/console/jobs', 'done', `Job ${j.id} is queued again.`))
          } catch (error) {
            if (error instanceof ApiError)
              return redirect(withMessage('/console/jobs', 'error', error.message))
            throw error
          }
        },
        { params: JobIdParams, body: Csrf, detail: { hide: true } },
      )
      .post(
        '/console/jobs/:id/cancel',
        async ({ params }) => {
          try {
            const j = await cancelJob(database, Number(params.id))
            log.info({ msg: 'job cancelled from the console', job: j.id })
            return redirect(withMessage('/console/jobs', 'done', `Job ${j.id} is cancelled.`))
          } catch (error) {
            if (error instanceof ApiError)
              return redirect(withMessage('/console/jobs', 'error', error.message))
            throw error
          }
        },
        { params: JobIdParams, body: Csrf, detail: { hide: true } },
      )
      .post(
        '/console/jobs/retry-dead',
        async ({ body }) => {
          const n = await retryDeadJobsOf(database, body.handler)
          log.info({ msg: 'dead jobs retried from the console', handler: body.handler, jobs: n })
          return redirect(
            withMessage('/console/jobs', 'done', `${n} dead ${body.handler} job(s) queued again.`),
          )
        },
        {
          body: Type.Object({
            csrf: Type.Optional(Type.String()),
            handler: Type.String({ minLength: 1, maxLength: 100 }),
          }),
          detail: { hide: true },
        },
      )
  )
}
