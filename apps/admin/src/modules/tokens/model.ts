/** @module Schemas of the admin-token routes. */
import { Type } from '@sinclair/typebox'
import { IdParam } from '../../paging'

const DateTime = Type.String({ format: 'date-time' })

export const TokenOut = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    created_at: DateTime,
    last_used_at: Type.Union([DateTime, Type.Null()]),
  },
  { $id: 'AdminToken' },
)

export const TokenList = Type.Object({ data: Type.Array(TokenOut) })

export const TokenIdParams = Type.Object({ id: IdParam })

export const TokenRevoked = Type.Object({ id: Type.String(), revoked: Type.Literal(true) })
