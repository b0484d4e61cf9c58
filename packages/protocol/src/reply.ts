/**
 * @module reply
 * The JSON a webhook answers with: autoreply `messages[]` and Rules Engine `variables{}`. The
 * schema and the builder admit only replies Telerivet accepts.
 */
import { type Static, Type } from '@sinclair/typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'

/** One autoreply message, as the webhook documentation lists its properties. */
export type ReplyMessage = {
  /** The SMS text; required (non-empty) for `sms`, ignored by Telerivet for `ussd`. */
  content?: string
  /** Defaults to the sender of the incoming message. For `ussd`, the USSD code to dial. */
  to_number?: string
  /** Default `sms`. */
  message_type?: 'sms' | 'ussd'
  /** http(s) URL Telerivet notifies of this message's status changes. */
  status_url?: string
  /** Passed as the `secret` parameter to `status_url`. */
  status_secret?: string
  /** The phone or route to send from; defaults to the one that received the message. */
  route_id?: string
}

/** A Rules Engine variable value. */
export type VariableValue = string | number | boolean | null

/** The webhook response body. `{}` is a valid reply: it sends nothing and sets nothing. */
export type WebhookReply = {
  messages?: ReplyMessage[]
  variables?: Record<string, VariableValue>
}

const MessageCommon = {
  to_number: Type.Optional(Type.String({ minLength: 1 })),
  status_url: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$' })),
  status_secret: Type.Optional(Type.String()),
  route_id: Type.Optional(Type.String({ minLength: 1 })),
}

/** An SMS autoreply: it needs content. */
export const SmsReplyMessage = Type.Object(
  {
    content: Type.String({ minLength: 1 }),
    message_type: Type.Optional(Type.Literal('sms')),
    ...MessageCommon,
  },
  { additionalProperties: false, $id: 'SmsReplyMessage' },
)

/** A USSD request: content is ignored; without `to_number` it goes back to the sender. */
export const UssdReplyMessage = Type.Object(
  {
    message_type: Type.Literal('ussd'),
    content: Type.Optional(Type.String()),
    ...MessageCommon,
  },
  { additionalProperties: false, $id: 'UssdReplyMessage' },
)

/** Schema of {@link ReplyMessage}: an SMS with content, or a USSD request. */
export const ReplyMessage = Type.Union([SmsReplyMessage, UssdReplyMessage], {
  $id: 'ReplyMessage',
})

const VAR_KEY = '[A-Za-z0-9_]{1,32}'
/**
 * Variable names the Rules Engine lets a webhook set: temporary `$name`, `return_value`,
 * `state.id`, the contact's own fields, and custom variables of the contact, state, message,
 * phone, project and service.
 */
export const VARIABLE_NAME_PATTERN = `^(?:\\$[A-Za-z0-9_]{1,64}|return_value|state\\.id|contact\\.(?:name|phone_number|send_blocked|conversation_status)|(?:contact|state|message|phone|project|service)\\.vars\\.${VAR_KEY})$`
const VARIABLE_NAME = new RegExp(VARIABLE_NAME_PATTERN)

/** Schema of {@link WebhookReply}; names and values are further checked by {@link replyErrors}. */
export const WebhookReply = Type.Object(
  {
    messages: Type.Optional(Type.Array(ReplyMessage)),
    variables: Type.Optional(
      Type.Record(
        Type.String({ pattern: VARIABLE_NAME_PATTERN }),
        Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]),
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, $id: 'WebhookReply' },
)
// The declared type above is the contract; this asserts the schema never admits more than it.
type _SchemaWithinType = Static<typeof WebhookReply> extends WebhookReply ? true : never
const _schemaWithinType: _SchemaWithinType = true
void _schemaWithinType

const checkReply = TypeCompiler.Compile(WebhookReply)
const encoder = new TextEncoder()

/** Per-variable rules that a schema cannot say: each name's type and the size limits. */
function variableError(name: string, value: unknown): string | null {
  if (!VARIABLE_NAME.test(name)) return `unknown variable name '${name}'`
  const t = value === null ? 'null' : typeof value
  if (t !== 'string' && t !== 'number' && t !== 'boolean' && t !== 'null') {
    return `variable '${name}' must be a string, number, boolean or null`
  }
  if (t === 'number' && !Number.isFinite(value)) return `variable '${name}' must be finite`
  switch (name) {
    case 'return_value':
      return t === 'boolean' ? null : 'return_value must be a boolean'
    case 'state.id':
      if (t === 'null') return null
      if (t !== 'string') return 'state.id must be a string or null'
      return (value as string).length <= 63 ? null : 'state.id is longer than 63 characters'
    case 'contact.send_blocked':
      return t === 'boolean' ? null : 'contact.send_blocked must be a boolean'
    case 'contact.name':
    case 'contact.phone_number':
    case 'contact.conversation_status':
      return t === 'string' || t === 'null' ? null : `${name} must be a string or null`
  }
  if (t === 'string' && encoder.encode(value as string).length > 4096) {
    return `variable '${name}' is longer than 4096 bytes`
  }
  return null
}

/** Why `x` is not a reply Telerivet accepts; empty when it is one. */
export function replyErrors(x: unknown): string[] {
  const errors: string[] = []
  if (!checkReply.Check(x)) {
    for (const e of checkReply.Errors(x)) {
      errors.push(`${e.path || '/'}: ${e.message}`)
      if (errors.length >= 20) break
    }
    return errors
  }
  const vars = (x as WebhookReply).variables
  if (vars) {
    for (const [name, value] of Object.entries(vars)) {
      const err = variableError(name, value)
      if (err !== null) errors.push(`/variables/${name}: ${err}`)
    }
  }
  return errors
}

/** True when `x` is a webhook reply Telerivet accepts. */
export function isValidReply(x: unknown): x is WebhookReply {
  return replyErrors(x).length === 0
}

/** Thrown by {@link ReplyBuilder} for a message or variable Telerivet would not accept. */
export class ReplyError extends Error {
  readonly errors: string[]
  constructor(errors: string[]) {
    super(`invalid webhook reply: ${errors.join('; ')}`)
    this.name = 'ReplyError'
    this.errors = errors
  }
}

/** Builds a {@link WebhookReply}; every step is checked at once and `build()` checks the whole. */
export interface ReplyBuilder {
  /** Adds an autoreply; a string is an SMS with that content. */
  message(m: ReplyMessage | string): ReplyBuilder
  /** Sets a Rules Engine variable (`$foo`, `contact.name`, `contact.vars.x`, ...). */
  variable(name: string, value: VariableValue): ReplyBuilder
  /** Moves the contact to a state of this service (`state.id`); null clears it. */
  state(id: string | null): ReplyBuilder
  /** Sets the contact's name (`contact.name`). */
  contactName(name: string | null): ReplyBuilder
  /** Sets a custom variable of the contact (`contact.vars.<key>`). */
  contactVar(key: string, value: VariableValue): ReplyBuilder
  /** Sets a custom variable of the contact's state (`state.vars.<key>`). */
  stateVar(key: string, value: VariableValue): ReplyBuilder
  /** Lets Telerivet fall through to the next service even though messages are sent. */
  fallThrough(): ReplyBuilder
  /** The reply, as a fresh plain object. */
  build(): WebhookReply
}

/**
 * Starts a webhook reply.
 *
 * @example
 * reply().message('Thanks!').state('asked_name').contactVar('lang', 'en').build()
 * // { messages: [{ content: 'Thanks!' }], variables: { 'state.id': 'asked_name', 'contact.vars.lang': 'en' } }
 */
export function reply(): ReplyBuilder {
  const messages: ReplyMessage[] = []
  const variables: Record<string, VariableValue> = {}
  const builder: ReplyBuilder = {
    message(m) {
      const msg: ReplyMessage = typeof m === 'string' ? { content: m } : { ...m }
      const errors = replyErrors({ messages: [msg] })
      if (errors.length > 0) throw new ReplyError(errors)
      messages.push(msg)
      return builder
    },
    variable(name, value) {
      const err = variableError(name, value)
      if (err !== null) throw new ReplyError([err])
      Object.defineProperty(variables, name, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      })
      return builder
    },
    state: (id) => builder.variable('state.id', id),
    contactName: (name) => builder.variable('contact.name', name),
    contactVar: (key, value) => builder.variable(`contact.vars.${key}`, value),
    stateVar: (key, value) => builder.variable(`state.vars.${key}`, value),
    fallThrough: () => builder.variable('return_value', false),
    build() {
      const out: WebhookReply = {}
      if (messages.length > 0) out.messages = messages.map((m) => ({ ...m }))
      if (Object.keys(variables).length > 0) out.variables = { ...variables }
      const errors = replyErrors(out)
      if (errors.length > 0) throw new ReplyError(errors)
      return out
    },
  }
  return builder
}
