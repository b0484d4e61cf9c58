/**
 * @module The admin API: one Elysia app composed of a feature module per resource (`modules/*`),
 * behind one request guard (deny by default), one error mapping and the OpenAPI document.
 */
import { openapi } from '@elysiajs/openapi'
import { Elysia } from 'elysia'
import { type AdminDeps, createContext } from './context'
import { docsPage, type OpenApiDoc } from './docs'
import { ApiError, ErrorBody, validationBody } from './errors'
import { contactsModule } from './modules/contacts'
import { destinationsModule } from './modules/destinations'
import { eventsModule } from './modules/events'
import { messagesModule } from './modules/messages'
import { projectsModule } from './modules/projects'
import { servicesModule } from './modules/services'
import { tokensModule } from './modules/tokens'
import { bearerToken, verifyAdminToken } from './modules/tokens/service'
import { inspectRequest, routerPath } from './request-guard'

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

  // The page is built once, on first request, from the finished app's OpenAPI document.
  let page: Promise<string> | undefined
  const docsHtml = (request: Request): Promise<string> => {
    page ??= Promise.resolve(admin.handle(new Request(new URL('/docs/json', request.url)))).then(
      async (res) => docsPage((await res.json()) as OpenApiDoc, '/docs/json'),
    )
    return page
  }

  const admin = new Elysia({ name: 'telehook-admin' })
    .use(
      openapi({
        path: '/docs',
        // Our own page at /docs: readable without the CDN the stock page loads its script from.
        provider: null,
        documentation: {
          info: {
            title: 'Telehook admin API',
            version: '0.1.0',
            description:
              'Onboard Telerivet projects, create their webhook services, read stored events. ' +
              'Every /v1 route needs Authorization: Bearer <token>. Request bodies are JSON. ' +
              'Errors answer {"error": {"code", "message", "param"?}} (ErrorBody) with a 4xx or ' +
              '5xx status: 400 invalid input or Telerivet refusing, 401 token, 404, 409, 415 not ' +
              'JSON, 422 Idempotency-Key reused, 502 Telerivet unreachable.',
          },
          components: {
            securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
          },
          security: [{ bearer: [] }],
        },
      }),
    )
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
      const who = await verifyAdminToken(
        database,
        deps.adminToken,
        bearerToken(request.headers.get('authorization')),
      )
      if (!who) {
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
      set.status = 500
      log.error({
        msg: 'unexpected error',
        path: routerPath(request.url),
        error: error instanceof Error ? error.message : String(error),
      })
      return { error: { code: 'internal', message: 'Internal error' } }
    })
    .get(
      '/docs',
      async ({ request }) =>
        new Response(await docsHtml(request), {
          headers: { 'content-type': 'text/html; charset=utf-8' },
        }),
      { detail: { hide: true } },
    )
    .use(projectsModule(ctx))
    .use(servicesModule(ctx))
    .use(eventsModule(ctx))
    .use(messagesModule(ctx))
    .use(contactsModule(ctx))
    .use(tokensModule(ctx))
    .use(destinationsModule(ctx))
  return admin
}

/**
 * The admin app's type: for composing it (e.g. in `telehook serve`) and for Elysia's Eden client,
 * `treaty<AdminApp>('http://127.0.0.1:8081')`, which types every route's params, body and answer.
 */
export type AdminApp = ReturnType<typeof createAdminApp>
