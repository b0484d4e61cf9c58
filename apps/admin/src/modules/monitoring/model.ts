/** @module Schemas of the monitoring routes. */
import { Type } from '@sinclair/typebox'

export const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('unavailable')]),
  driver: Type.String({ description: 'pglite or postgres' }),
})
