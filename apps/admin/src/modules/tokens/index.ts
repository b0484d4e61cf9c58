/** @module Admin-token routes: list the stored tokens (never their hashes), revoke one. */
import { Elysia } from 'elysia'
import type { AdminContext } from '../../context'
import { ApiError, errorResponses } from '../../errors'
import { TokenIdParams, TokenList, TokenRevoked } from './model'
import { listAdminTokens, revokeAdminToken } from './service'

export const tokensModule = (ctx: AdminContext) =>
  new Elysia({ name: 'telehook-admin/tokens', prefix: '/v1/tokens' })
    .get('', async () => ({ data: await listAdminTokens(ctx.database) }), {
      response: { 200: TokenList, ...errorResponses(401, 429) },
      detail: {
        summary: 'List the stored admin tokens (TELEHOOK_ADMIN_TOKEN is not stored, so not listed)',
        tags: ['tokens'],
      },
    })
    .delete(
      '/:id',
      async ({ params }) => {
        if (!(await revokeAdminToken(ctx.database, params.id))) {
          throw new ApiError(404, 'not_found', 'No such token')
        }
        ctx.log.info({ msg: 'admin token revoked', token_id: params.id })
        return { id: params.id, revoked: true as const }
      },
      {
        params: TokenIdParams,
        response: { 200: TokenRevoked, ...errorResponses(400, 401, 404, 429) },
        detail: { summary: 'Revoke a stored admin token', tags: ['tokens'] },
      },
    )
