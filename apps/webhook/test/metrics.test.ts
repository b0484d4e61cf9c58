import { describe, expect, test } from 'bun:test'
import { createMetrics, renderBatchStats } from '../src/metrics'

describe('createMetrics', () => {
  test('renders counters and a cumulative histogram in the text format', () => {
    const m = createMetrics()
    m.observeDelivery({ event: 'incoming_message', outcome: 'stored', seconds: 0.004 })
    m.observeDelivery({ event: 'incoming_message', outcome: 'duplicate', seconds: 0.02 })
    m.observeDelivery({ event: 'none', outcome: 'forbidden', seconds: 3 })
    m.handlerError('incoming_message')
    m.invalidEvent('unknown')
    const text = m.render()
    expect(text).toContain('# TYPE telehook_webhook_deliveries_total counter')
    expect(text).toContain(
      'telehook_webhook_deliveries_total{event="incoming_message",outcome="stored"} 1',
    )
    expect(text).toContain('telehook_webhook_duplicates_total{event="incoming_message"} 1')
    expect(text).toContain('telehook_webhook_forbidden_total 1')
    expect(text).toContain('telehook_webhook_handler_errors_total{event="incoming_message"} 1')
    expect(text).toContain('telehook_webhook_invalid_events_total{event="unknown"} 1')
    expect(text).toContain('telehook_webhook_request_duration_seconds_bucket{le="0.005"} 1')
    expect(text).toContain('telehook_webhook_request_duration_seconds_bucket{le="0.025"} 2')
    expect(text).toContain('telehook_webhook_request_duration_seconds_bucket{le="2.5"} 2')
    expect(text).toContain('telehook_webhook_request_duration_seconds_bucket{le="5"} 3')
    expect(text).toContain('telehook_webhook_request_duration_seconds_bucket{le="+Inf"} 3')
    expect(text).toContain('telehook_webhook_request_duration_seconds_count 3')
    expect(text.endsWith('\n')).toBe(true)
  })

  test('escapes label values', () => {
    const m = createMetrics()
    m.handlerError('a"b\\c\nd')
    expect(m.render()).toContain('{event="a\\"b\\\\c\\nd"} 1')
  })

  test('two registries do not share state', () => {
    const a = createMetrics()
    const b = createMetrics()
    a.handlerError('x')
    expect(b.render()).not.toContain('handler_errors_total{event="x"}')
  })
})

describe('renderBatchStats', () => {
  test("renders the engine's group-commit counters, nothing when it does not batch", () => {
    const text = renderBatchStats({ batches: 7, retried: 2 })
    expect(text).toContain('# TYPE telehook_engine_batches_total counter')
    expect(text).toContain('telehook_engine_batches_total 7\n')
    expect(text).toContain('telehook_engine_batch_retries_total 2\n')
    expect(renderBatchStats(null)).toBe('')
    expect(renderBatchStats(undefined)).toBe('')
  })
})
