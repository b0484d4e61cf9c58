/**
 * @module fixtures
 * Realistic webhook bodies, built from every parameter list of Telerivet's webhook documentation
 * and the REST object fields that arrive alongside. For tests here and in other packages
 * (`@telehook/protocol/fixtures`); values are as on the wire: numbers and booleans are strings.
 */
import type { EventType } from './events/index.ts'
import { encodeForm } from './form.ts'

/** The `secret` parameter every fixture carries. */
export const FIXTURE_SECRET = 'whsec_test_0123456789'

type Wire = Record<string, unknown>

/**
 * The parameters `spec/telerivet-webhook-api.txt` documents for each event, by top-level name
 * (nested objects such as `contact`, `media` and `recipients` by their name). Written out from the
 * documentation, not derived from the schemas, so tests can hold the code against it.
 */
export const DOCUMENTED_PARAMETERS: Record<EventType, readonly string[]> = {
  incoming_message: [
    'event',
    'id',
    'message_type',
    'content',
    'from_number',
    'from_number_e164',
    'to_number',
    'time_created',
    'time_sent',
    'contact_id',
    'phone_id',
    'service_id',
    'message_service_id',
    'project_id',
    'secret',
    'media',
    'contact',
    'state',
    'phone',
  ],
  send_status: [
    'event',
    'id',
    'status',
    'error_message',
    'message_type',
    'from_number',
    'to_number',
    'contact_id',
    'phone_id',
    'content',
    'time_created',
    'time_sent',
    'time_clicked',
    'project_id',
    'secret',
    'contact',
  ],
  send_broadcast: [
    'event',
    'id',
    'recipients_str',
    'recipients',
    'estimated_count',
    'content',
    'route_id',
    'project_id',
    'user_name',
    'user_email',
    'secret',
  ],
  contact_update: [
    'event',
    'update_type',
    'id',
    'phone_number',
    'name',
    'send_blocked',
    'vars',
    'group_ids',
    'secret',
  ],
  message_metadata: [
    'event',
    'update_type',
    'id',
    'starred',
    'label_ids',
    'vars',
    'in_progress',
    'secret',
    'contact',
  ],
}

/**
 * "All other REST API properties" of each object, as `spec/telerivet-rest-api.md` lists them:
 * what may arrive beside the documented parameters, and nothing else.
 */
export const REST_PROPERTIES: Record<
  'message' | 'contact' | 'phone' | 'broadcast' | 'state' | 'media',
  readonly string[]
> = {
  message: [
    'id',
    'direction',
    'status',
    'message_type',
    'source',
    'time_created',
    'time_sent',
    'time_updated',
    'time_clicked',
    'from_number',
    'to_number',
    'content',
    'starred',
    'simulated',
    'label_ids',
    'route_params',
    'vars',
    'priority',
    'send_attempts',
    'error_message',
    'error_code',
    'external_id',
    'num_parts',
    'price',
    'price_currency',
    'duration',
    'ring_time',
    'audio_url',
    'tts_lang',
    'tts_voice',
    'track_clicks',
    'short_urls',
    'network_code',
    'media',
    'mms_parts',
    'service_id',
    'phone_id',
    'contact_id',
    'route_id',
    'broadcast_id',
    'scheduled_id',
    'user_id',
    'project_id',
  ],
  contact: [
    'id',
    'name',
    'phone_number',
    'time_created',
    'time_updated',
    'send_blocked',
    'conversation_status',
    'last_message_time',
    'last_incoming_message_time',
    'last_outgoing_message_time',
    'message_count',
    'incoming_message_count',
    'outgoing_message_count',
    'last_message_id',
    'default_route_id',
    'group_ids',
    'vars',
    'project_id',
  ],
  phone: [
    'id',
    'name',
    'phone_number',
    'phone_type',
    'country',
    'send_paused',
    'time_created',
    'last_active_time',
    'vars',
    'project_id',
    'battery',
    'charging',
    'internet_type',
    'app_version',
    'android_sdk',
    'mccmnc',
    'manufacturer',
    'model',
    'send_limit',
  ],
  broadcast: [
    'id',
    'recipients',
    'title',
    'time_created',
    'last_message_time',
    'last_send_time',
    'status_counts',
    'message_count',
    'estimated_count',
    'num_parts',
    'message_type',
    'content',
    'audio_url',
    'tts_lang',
    'tts_voice',
    'replace_variables',
    'status',
    'source',
    'simulated',
    'track_clicks',
    'clicked_count',
    'label_ids',
    'media',
    'vars',
    'route_params',
    'price',
    'price_currency',
    'reply_count',
    'last_reply_time',
    'route_id',
    'service_id',
    'user_id',
    'project_id',
  ],
  state: ['id', 'contact_id', 'service_id', 'vars', 'time_created', 'time_updated', 'project_id'],
  media: ['url', 'type', 'filename', 'size'],
}

const contact = (over: Wire = {}): Wire => ({
  id: 'CTa1b2c3d4e5f6a7b8',
  name: 'John Smith',
  phone_number: '+16505550123',
  time_created: '1390343779',
  time_updated: '1390343900',
  send_blocked: '0',
  conversation_status: 'active',
  last_message_time: '1390347812',
  last_incoming_message_time: '1390347812',
  last_outgoing_message_time: '1390340000',
  message_count: '12',
  incoming_message_count: '7',
  outgoing_message_count: '5',
  last_message_id: 'SMa1b2c3d4e5f6a7b8',
  default_route_id: 'PNa1b2c3d4e5f6a7b8',
  group_ids: ['CGa1b2c3d4e5f6a7b8', 'CGb2c3d4e5f6a7b8c9'],
  vars: { foo: 'bar', age: '31' },
  project_id: 'PJa1b2c3d4e5f6a7b8',
  ...over,
})

const phone = (): Wire => ({
  id: 'PNa1b2c3d4e5f6a7b8',
  name: 'Android Phone 1',
  phone_number: '+16505550001',
  phone_type: 'android',
  country: 'US',
  send_paused: '0',
  time_created: '1390000000',
  last_active_time: '1390347800',
  vars: { location: 'office' },
  project_id: 'PJa1b2c3d4e5f6a7b8',
  battery: '87',
  charging: '1',
  internet_type: 'wifi',
  app_version: '3.4.2',
  android_sdk: '30',
  mccmnc: '310260',
  manufacturer: 'Google',
  model: 'Pixel 5',
  send_limit: '100',
})

const state = (): Wire => ({
  id: 'asked_name',
  contact_id: 'CTa1b2c3d4e5f6a7b8',
  service_id: 'SVa1b2c3d4e5f6a7b8',
  vars: { step: '2' },
  time_created: '1390343000',
  time_updated: '1390347000',
  project_id: 'PJa1b2c3d4e5f6a7b8',
})

/** An `incoming_message` as wire values, for the given message type. */
export function incomingMessageWire(
  type: 'sms' | 'mms' | 'ussd' | 'call' = 'sms',
  over: Wire = {},
): Wire {
  const base: Wire = {
    event: 'incoming_message',
    id: 'SMa1b2c3d4e5f6a7b8',
    message_type: type,
    direction: 'incoming',
    status: 'received',
    source: 'phone',
    content: 'Hello world',
    from_number: '+16505550123',
    from_number_e164: '+16505550123',
    to_number: '+16505550001',
    time_created: '1390347812',
    time_sent: '1390347810',
    time_updated: '1390347812',
    starred: '0',
    simulated: '0',
    label_ids: ['LBa1b2c3d4e5f6a7b8'],
    vars: { survey: 'yes' },
    contact_id: 'CTa1b2c3d4e5f6a7b8',
    phone_id: 'PNa1b2c3d4e5f6a7b8',
    route_id: 'PNa1b2c3d4e5f6a7b8',
    service_id: 'SVa1b2c3d4e5f6a7b8',
    message_service_id: 'SVb2c3d4e5f6a7b8c9',
    project_id: 'PJa1b2c3d4e5f6a7b8',
    secret: FIXTURE_SECRET,
    contact: contact(),
    state: state(),
    phone: phone(),
  }
  if (type === 'mms') {
    base.id = 'SMmms1b2c3d4e5f6a7'
    base.content = 'Look at this'
    base.media = [
      {
        url: 'https://telerivet.example/media/abc.jpg',
        type: 'image/jpeg',
        filename: 'abc.jpg',
        size: '48213',
      },
      {
        url: 'https://telerivet.example/media/def.png',
        type: 'image/png',
        filename: 'def.png',
        size: '1024',
      },
    ]
  } else if (type === 'ussd') {
    base.id = 'SMussd1b2c3d4e5f6a'
    base.from_number = '*123#'
    base.from_number_e164 = undefined
    base.content = 'Your balance is 10.00'
  } else if (type === 'call') {
    base.id = 'SMcall1b2c3d4e5f6a'
    base.content = ''
    base.duration = '42'
    base.ring_time = '5'
    base.audio_url = 'https://telerivet.example/audio/call.mp3'
  }
  return { ...base, ...over }
}

/** A `send_status` as wire values. */
export function sendStatusWire(status = 'sent', over: Wire = {}): Wire {
  const failed = status === 'failed' || status === 'failed_queued' || status === 'not_delivered'
  return {
    event: 'send_status',
    id: 'SMout1b2c3d4e5f6a7',
    status,
    error_message: failed ? 'Example error message.' : undefined,
    message_type: 'sms',
    direction: 'outgoing',
    source: 'api',
    from_number: '+16505550001',
    to_number: '+15005550012',
    contact_id: 'CTa1b2c3d4e5f6a7b8',
    phone_id: 'PNa1b2c3d4e5f6a7b8',
    content: 'Your code is 1234 https://trv.example/x',
    time_created: '1390347800',
    time_sent: status === 'queued' || status === 'failed' ? undefined : '1390347805',
    time_clicked: undefined,
    track_clicks: '1',
    num_parts: '1',
    price: '0.0075',
    price_currency: 'USD',
    send_attempts: '1',
    project_id: 'PJa1b2c3d4e5f6a7b8',
    secret: FIXTURE_SECRET,
    contact: contact({ vars: { lang: 'en' } }),
    ...over,
  }
}

/** A `send_broadcast` as wire values. */
export function sendBroadcastWire(over: Wire = {}): Wire {
  return {
    event: 'send_broadcast',
    id: 'BCa1b2c3d4e5f6a7b8',
    recipients_str: 'Subscribers, +16505550123',
    recipients: [
      { type: 'group', id: 'CGa1b2c3d4e5f6a7b8', name: 'Subscribers' },
      { type: 'phone_number', phone_number: '+16505550123' },
    ],
    estimated_count: '143',
    content: 'Weekly update: the market opens at 8.',
    route_id: 'PNa1b2c3d4e5f6a7b8',
    project_id: 'PJa1b2c3d4e5f6a7b8',
    user_name: 'Jane Admin',
    user_email: 'jane@example.org',
    title: 'Weekly update',
    time_created: '1390347000',
    last_message_time: '1390347100',
    last_send_time: '1390347100',
    status_counts: { queued: '120', sent: '23' },
    message_count: '143',
    num_parts: '1',
    message_type: 'sms',
    replace_variables: '0',
    status: 'sending',
    source: 'web',
    simulated: '0',
    track_clicks: '0',
    clicked_count: '0',
    label_ids: ['LBa1b2c3d4e5f6a7b8'],
    vars: { campaign: 'w12' },
    price: '1.07',
    price_currency: 'USD',
    reply_count: '0',
    service_id: 'SVa1b2c3d4e5f6a7b8',
    user_id: 'URa1b2c3d4e5f6a7b8',
    secret: FIXTURE_SECRET,
    ...over,
  }
}

/** A `contact_update` as wire values. */
export function contactUpdateWire(updateType = 'update', over: Wire = {}): Wire {
  return {
    event: 'contact_update',
    update_type: updateType,
    ...contact({ send_blocked: updateType === 'block_send' ? '1' : '0' }),
    secret: FIXTURE_SECRET,
    ...over,
  }
}

/** A `message_metadata` as wire values. */
export function messageMetadataWire(updateType = 'star', over: Wire = {}): Wire {
  const call = updateType === 'set_variable' || updateType === 'call_complete'
  return {
    event: 'message_metadata',
    update_type: updateType,
    id: call ? 'SMcall1b2c3d4e5f6a' : 'SMa1b2c3d4e5f6a7b8',
    starred: updateType === 'star' ? '1' : '0',
    label_ids:
      updateType === 'remove_label' ? undefined : ['LBa1b2c3d4e5f6a7b8', 'LBb2c3d4e5f6a7b8c9'],
    vars: call
      ? { digits: '42', recording: 'https://telerivet.example/rec/1.mp3' }
      : { note: 'vip' },
    in_progress: call ? (updateType === 'call_complete' ? '0' : '1') : undefined,
    message_type: call ? 'call' : 'sms',
    direction: 'incoming',
    from_number: '+16505550123',
    to_number: '+16505550001',
    content: call ? '' : 'Hello world',
    time_created: '1390347812',
    project_id: 'PJa1b2c3d4e5f6a7b8',
    secret: FIXTURE_SECRET,
    contact: contact(),
    ...over,
  }
}

/** Form-encodes wire values, as Telerivet does. */
export const toBody = (wire: Wire): string => encodeForm(wire)

/**
 * The body of the webhook documentation's own example, completed into a realistic SMS
 * (~900 bytes): what the benchmark parses.
 */
export const INCOMING_SMS_BODY =
  'event=incoming_message&id=SMa1b2c3d4e5f6a7b8&message_type=sms' +
  '&content=Hello+world%2C+I+would+like+to+subscribe+please&from_number=%2B16505550123' +
  '&from_number_e164=%2B16505550123&to_number=%2B16505550001&time_created=1390347812' +
  '&time_sent=1390347810&starred=0&contact_id=CTa1b2c3d4e5f6a7b8' +
  '&phone_id=PNa1b2c3d4e5f6a7b8&service_id=SVa1b2c3d4e5f6a7b8' +
  '&project_id=PJa1b2c3d4e5f6a7b8&secret=whsec_test_0123456789' +
  '&contact%5Bid%5D=CTa1b2c3d4e5f6a7b8&contact%5Bname%5D=John+Smith' +
  '&contact%5Bphone_number%5D=%2B16505550123&contact%5Btime_created%5D=1390343779' +
  '&contact%5Bmessage_count%5D=12' +
  '&contact%5Bgroup_ids%5D%5B0%5D=CGa1b2c3d4e5f6a7b8&contact%5Bvars%5D%5Bfoo%5D=bar' +
  '&contact%5Bvars%5D%5Bage%5D=31&state%5Bid%5D=asked_name' +
  '&state%5Bvars%5D%5Bstep%5D=2&phone%5Bid%5D=PNa1b2c3d4e5f6a7b8&phone%5Bname%5D=Android+Phone+1' +
  '&phone%5Bphone_type%5D=android&phone%5Bcountry%5D=US' +
  '&label_ids%5B0%5D=LBa1b2c3d4e5f6a7b8'
