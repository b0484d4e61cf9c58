import { describe, expect, test } from 'bun:test'
import { answerClasses } from './answers'

describe('answerClasses', () => {
  test('sums the delivery counters by the status class of their outcome', () => {
    const text = [
      '# HELP telehook_webhook_deliveries_total Webhook POSTs answered, by event type and outcome.',
      '# TYPE telehook_webhook_deliveries_total counter',
      'telehook_webhook_deliveries_total{event="incoming_message",outcome="stored"} 12',
      'telehook_webhook_deliveries_total{event="send_status",outcome="duplicate"} 3',
      'telehook_webhook_deliveries_total{event="incoming_message",outcome="forbidden"} 8',
      'telehook_webhook_deliveries_total{event="none",outcome="body_too_large"} 2',
      'telehook_webhook_deliveries_total{event="incoming_message",outcome="unavailable"} 4',
      'telehook_webhook_deliveries_total{event="none",outcome="error"} 1',
      'telehook_webhook_forbidden_total 8',
    ].join('\n')
    expect(answerClasses(text)).toEqual({ '2xx': 15, '4xx': 10, '5xx': 5 })
  })

  test('no delivery series: null (nothing to show), not zeros', () => {
    expect(answerClasses('# nothing here\n')).toBeNull()
  })
})
