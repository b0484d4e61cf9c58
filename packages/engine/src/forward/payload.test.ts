import { expect, test } from 'bun:test'
import { forwardBody } from './payload'

const receivedAt = new Date(Date.UTC(2026, 10, 30, 8, 0, 0, 123))

test('the decoded fields as they are, then the ids and received_at; never secret', () => {
  const body = forwardBody({
    id: 'ev-1',
    endpointId: 'default',
    projectId: 'PJ1',
    receivedAt,
    payload: {
      event: 'send_status',
      id: 'SM1',
      status: 'delivered',
      time_created: 1_760_000_000,
      time_updated: 1_760_000_060,
      starred: false,
      vars: { n: 2 },
      secret: 'leaked?',
      project_id: 'PJ1',
    },
  })
  expect(body).not.toContain('leaked')
  expect(JSON.parse(body)).toEqual({
    event: 'send_status',
    id: 'SM1',
    status: 'delivered',
    time_created: 1_760_000_000,
    time_updated: 1_760_000_060,
    starred: false,
    vars: { n: 2 },
    project_id: 'PJ1',
    endpoint_id: 'default',
    event_id: 'ev-1',
    received_at: 1_796_025_600.123,
  })
})

test("project_id: the event's project, else the payload's, else null", () => {
  const base = { id: 'e', endpointId: 'x', receivedAt, payload: { event: 'contact_update' } }
  expect(JSON.parse(forwardBody({ ...base, projectId: null })).project_id).toBeNull()
  const withPayload = { ...base, projectId: null, payload: { project_id: 'PJ2' } }
  expect(JSON.parse(forwardBody(withPayload)).project_id).toBe('PJ2')
  expect(JSON.parse(forwardBody({ ...base, projectId: 'PJ3' })).project_id).toBe('PJ3')
})
