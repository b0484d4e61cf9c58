/** @module @telehook/telerivet-api — a typed, web-standard client of Telerivet's REST API. */

export {
  APPLY_MODES,
  CONTACT_NUMBER_FILTERS,
  SERVICE_CONTEXTS,
  SERVICE_DIRECTIONS,
  SERVICE_MESSAGE_TYPES,
  SERVICE_TYPES,
  type ServiceType,
} from '@telehook/protocol'
export {
  type CallOptions,
  createTelerivetClient,
  DEFAULT_BASE_URL,
  encodeQuery,
  type TelerivetClient,
  type TelerivetClientOptions,
} from './client'
export {
  type ClientErrorCode,
  isInvalidParam,
  isNotFound,
  isUnauthorized,
  requestNotSent,
  TelerivetApiError,
} from './errors'
export * from './types'
