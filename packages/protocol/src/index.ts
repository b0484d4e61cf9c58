/**
 * @module @telehook/protocol
 * Telerivet's webhook wire format: the form codec, the schema of every event and of the reply,
 * decoding, secrets and the handler types. Web-standard APIs only (runs on Bun, Deno and Node).
 */
export {
  canonicalPayload,
  type DecodeError,
  type DecodeResult,
  decodeEvent,
  MAX_DECODE_ERRORS,
  withoutSecret,
} from './decode.ts'
export * from './events/index.ts'
export {
  DEFAULT_FORM_LIMITS,
  encodeForm,
  FormError,
  type FormErrorCode,
  type FormLimits,
  type FormObject,
  type FormValue,
  parseForm,
} from './form.ts'
export {
  type AsyncHandlers,
  defineHandlers,
  type HandlerContext,
  type Handlers,
  type JobContext,
  type SyncHandlers,
} from './handlers.ts'
export {
  isValidReply,
  type ReplyBuilder,
  ReplyError,
  ReplyMessage,
  reply,
  replyErrors,
  SmsReplyMessage,
  UssdReplyMessage,
  VARIABLE_NAME_PATTERN,
  type VariableValue,
  WebhookReply,
} from './reply.ts'
export {
  APPLY_MODES,
  type ApplyMode,
  CONTACT_NUMBER_FILTERS,
  type ContactNumberFilter,
  SERVICE_CONTEXTS,
  SERVICE_DIRECTIONS,
  SERVICE_MESSAGE_TYPES,
  SERVICE_TYPES,
  type ServiceContext,
  type ServiceDirection,
  type ServiceMessageType,
  type ServiceType,
  WEBHOOK_PORTS,
  webhookPort,
} from './rest.ts'
export { generateSecret, hashSecret, sha256Hex, timingSafeEqual, verifySecret } from './secret.ts'
