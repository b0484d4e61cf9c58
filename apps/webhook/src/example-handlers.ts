/**
 * @module The example handlers module: a two-step conversation driven by `state.id`.
 *
 * First message: ask the contact's name and move them to 'awaiting_name'. Next message: store it
 * as `contact.name`, move them to 'named' and thank them. Later messages greet them by name.
 * Copy this file to start your own module and point `TELEHOOK_HANDLERS` at it.
 */
import { defineHandlers, reply } from '@telehook/protocol'

/** The conversation steps, stored by Telerivet as the contact's `state.id` for this service. */
export const STATES = { awaitingName: 'awaiting_name', named: 'named' } as const

/** Longest name kept; Telerivet's contact names are short strings. */
const MAX_NAME_LENGTH = 64

export const ASK_NAME = "Hi! What's your name?"

/** Cleans a typed name: trims, folds runs of white space, caps the length. */
export function cleanName(content: string | undefined | null): string {
  return (content ?? '').replace(/\s+/g, ' ').trim().slice(0, MAX_NAME_LENGTH).trim()
}

const handlers = defineHandlers({
  sync: {
    incoming_message(message) {
      const state = message.state?.id
      if (state === STATES.awaitingName) {
        const name = cleanName(message.content)
        if (name === '') return reply().message({ content: ASK_NAME }).build()
        return reply()
          .contactName(name)
          .state(STATES.named)
          .message({ content: `Thanks, ${name}! Nice to meet you.` })
          .build()
      }
      if (state === STATES.named) {
        const name = message.contact?.name
        return reply()
          .message({ content: name ? `Welcome back, ${name}!` : 'Welcome back!' })
          .build()
      }
      return reply().state(STATES.awaitingName).message({ content: ASK_NAME }).build()
    },
  },
})

export default handlers
