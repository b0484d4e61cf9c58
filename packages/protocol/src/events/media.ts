/** @module events/media — a media file attached to a message (`media[0][url]`, ...). */
import { type Static, Type } from '@sinclair/typebox'
import { Int } from './fields.ts'

/** One media file of an MMS (or other) message; which properties are present depends on the route. */
export const Media = Type.Object(
  {
    url: Type.Optional(Type.String({ description: 'URL of the media file' })),
    type: Type.Optional(Type.String({ description: 'MIME type, e.g. image/jpeg' })),
    filename: Type.Optional(Type.String()),
    size: Type.Optional(Int('size in bytes')),
  },
  { $id: 'Media' },
)
export type Media = Static<typeof Media>
