/**
 * @module The admin API: one Elysia app composed of a feature module per resource (`modules/*`),
 * behind one request guard (deny by default), one error mapping and the OpenAPI document.
 */
import { routerPath } from '@telehook/engine/request-guard'
import { type AnyElysia, Elysia } from 'elysia'
import { clientAddress, createAuthFailureLimiter } from './auth-limit'
import { type AdminDeps, createContext } from './context'
import { docsPlugin } from './docs'
import { ApiError, describeError, ErrorBody, isDataException, validationBody } from './errors'
import { broadcastsModule } from './modules/broadcasts'
import { consoleGuard, consoleModule } from './modules/console'
import { contactsModule } from './modules/contacts'
import { destinationsModule } from './modules/destinations'
import { eventsModule } from './modules/events'
import { jobsModule } from './modules/jobs'
import { messagesModule } from './modules/messages'
import { monitoringModule } from './modules/monitoring'
import { overviewModule } from './modules/overview'
import { projectsModule } from './modules/projects'
import { servicesModule } from './modules/services'
import { tokensModule } from './modules/tokens'
import { bearerToken, verifyAdminToken } from './modules/tokens/service'
import { inspectRequest } from './request-guard'

export type { AdminDeps } from './context'

/**
 * Builds the admin API (Elysia, not listening). Every `/v1` route needs
 * `Authorization: Bearer <token>`; `/docs` serves the OpenAPI page and `/docs/json` the document.
 * @example
 * const app = createAdminApp({ database, publicUrl: 'https://hooks.example.com', masterKey })
 * Bun.serve({ port: 8081, hostname: '127.0.0.1', fetch: app.fetch })
 */
export function createAdminApp(deps: AdminDeps) {
  const ctx = createContext(deps)
  const { database, log } = ctx
  const allowedHosts = deps.allowedHosts ?? '*'
  const failures = createAuthFailureLimiter(deps.authFailureLimit)

  // The document describes the finished app, known once it is built below.
  const documented: { app?: AnyElysia } = {}

  const guardConsole = consoleGuard(database)
  const admin = new Elysia({ name: 'telehook-admin' })
    .use(docsPlugin(documented))
    // Before routing, parsing and validation: without a valid token nothing else is looked at,
    // so a 401 is all an unauthenticated caller ever learns.
    .onRequest(async ({ request }) => {
      const verdict = inspectRequest(request, allowedHosts)
      if (verdict.kind === 'refuse') {
        log.warn({
          msg: 'admin request refused',
          method: request.method,
          path: verdict.path,
          status: verdict.status,
          reason: verdict.code,
        })
        return Response.json(
          { error: { code: verdict.code, message: verdict.message } },
          { status: verdict.status },
        )
      }
      // Deny by default: every path but the allow-list needs a token, routes or not.
      const path = verdict.path
      if (verdict.public) return
      const address = clientAddress(request)
      const wait = address === undefined ? 0 : failures.retryAfter(address)
      if (wait > 0) {
        log.warn({ msg: 'admin request', method: request.method, path, status: 429 })
        return Response.json(
          {
            error: {
              code: 'too_many_failed_tokens',
              message: `Too many failed tokens from this address: try again in ${wait} s`,
            },
          },
          { status: 429, headers: { 'retry-after': String(wait) } },
        )
      }
      // Console pages and actions: a session cookie instead of a bearer token (CSRF checked there).
      if (verdict.console) return guardConsole(request)
      const who = await verifyAdminToken(
        database,
        deps.adminToken,
        bearerToken(request.headers.get('authorization')),
      )
      if (!who) {
        if (address !== undefined) failures.fail(address)
        log.warn({ msg: 'admin request', method: request.method, path, status: 401 })
        return new Response(
          JSON.stringify({
            error: { code: 'unauthorized', message: 'Missing or invalid token' },
          }),
          {
            status: 401,
            headers: {
              'content-type': 'application/json',
              'www-authenticate': 'Bearer realm="telehook-admin"',
            },
          },
        )
      }
      // A JSON API: a form or text body would otherwise be parsed as such and fail validation
      // with a message about its fields instead of about its type.
      const type = request.headers.get('content-type')
      if (
        type !== null &&
        request.method !== 'GET' &&
        request.method !== 'HEAD' &&
        !/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(type)
      ) {
        return Response.json(
          {
            error: {
              code: 'unsupported_media_type',
              message: 'Send the body as JSON with Content-Type: application/json',
            },
          },
          { status: 415 },
        )
      }
    })
    .onAfterResponse(({ request, set }) => {
      // Method, path and status only: bodies and headers (keys, tokens) are never logged.
      log.info({
        msg: 'admin request',
        method: request.method,
        path: routerPath(request.url),
        status: typeof set.status === 'number' ? set.status : String(set.status ?? 200),
      })
    })
    .model({ ErrorBody })
    .error({ ApiError })
    .onError(({ code, error, set, request }) => {
      // By instance, not `code`: Elysia takes an error's own `code` field as its code.
      if (error instanceof ApiError) {
        set.status = error.httpStatus
        if (error.httpStatus >= 500) {
          log.error({ msg: 'request failed', path: routerPath(request.url), code: error.code })
        }
        return error.toBody()
      }
      if (code === 'VALIDATION') {
        set.status = 400
        return validationBody(error)
      }
      if (code === 'NOT_FOUND') {
        set.status = 404
        return { error: { code: 'not_found', message: 'No such route' } }
      }
      if (code === 'PARSE') {
        set.status = 400
        return { error: { code: 'invalid_json', message: 'The body is not valid JSON' } }
      }
      // The log names the failure, never the SQL, its parameters or the request's data.
      const logged = { path: routerPath(request.url), ...describeError(error) }
      if (isDataException(error)) {
        log.warn({ msg: 'request refused by the database', ...logged })
        set.status = 400
        return { error: { code: 'invalid_param', message: 'A value in the request is not valid' } }
      }
      set.status = 500
      log.error({ msg: 'unexpected error', ...logged })
      return { error: { code: 'internal', message: 'Internal error' } }
    })
    .use(projectsModule(ctx))
    .use(servicesModule(ctx))
    .use(eventsModule(ctx))
    .use(messagesModule(ctx))
    .use(contactsModule(ctx))
    .use(broadcastsModule(ctx))
    .use(tokensModule(ctx))
    .use(jobsModule(ctx))
    .use(overviewModule(ctx))
    .use(consoleModule(ctx))
    .use(monitoringModule(ctx))
    .use(destinationsModule(ctx))
  documented.app = admin
  return admin
}

/**
 * The admin app's type: for composing it (e.g. in `telehook serve`) and for Elysia's Eden client,
 * `treaty<AdminApp>('http://127.0.0.1:8081')`, which types every route's params, body and answer.
 */
export type AdminApp = ReturnType<typeof createAdminApp>
