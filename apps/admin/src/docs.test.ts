import { describe, expect, test } from 'bun:test'
import { docsPage } from './docs'

describe('docsPage', () => {
  test('lists every operation, escaped, and links the document', () => {
    const html = docsPage(
      {
        info: { title: 'T <x>', version: '1', description: 'a & b' },
        paths: {
          '/v1/things/{id}': {
            get: { summary: 'Get a <thing>' },
            delete: { summary: 'Delete', description: 'for "good"' },
            parameters: {},
          },
        },
      },
      '/docs/json',
    )
    expect(html).toContain('<title>T &#60;x&#62;</title>')
    expect(html).toContain('a &#38; b')
    expect(html).toContain(
      '<code>GET</code></td><td><code>/v1/things/{id}</code></td><td>Get a &#60;thing&#62;</td>',
    )
    expect(html).toContain('<td>Delete — for &#34;good&#34;</td>')
    expect(html).not.toContain('<thing>')
    expect(html.match(/<tr><td>/g)?.length).toBe(2)
  })
})
