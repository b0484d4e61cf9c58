/**
 * @module bench/parse
 * parse + decode of a realistic ~900-byte incoming_message body, against qs.parse + the same
 * validation, in the same run. `bun run bench` in this package. Reported, never asserted.
 */
import { bench, do_not_optimize, run, summary } from 'mitata'
import qs from 'qs'
import { decodeEvent } from '../src/decode.ts'
import { INCOMING_SMS_BODY } from '../src/fixtures.ts'
import { parseForm } from '../src/form.ts'
import { QS_OPTIONS } from '../test/qs-options.ts'

const body = INCOMING_SMS_BODY
const check = decodeEvent(parseForm(body))
const checkQs = decodeEvent(qs.parse(body, QS_OPTIONS) as Parameters<typeof decodeEvent>[0])
if (!check.ok || !checkQs.ok) throw new Error('benchmark body does not decode')

summary(() => {
  bench('parseForm + decodeEvent', () => do_not_optimize(decodeEvent(parseForm(body))))
  bench('qs.parse + decodeEvent', () =>
    do_not_optimize(decodeEvent(qs.parse(body, QS_OPTIONS) as Parameters<typeof decodeEvent>[0])),
  )
})

summary(() => {
  bench('parseForm', () => do_not_optimize(parseForm(body)))
  bench('qs.parse', () => do_not_optimize(qs.parse(body, QS_OPTIONS)))
  bench('URLSearchParams (flat, no brackets: a floor)', () =>
    do_not_optimize(Object.fromEntries(new URLSearchParams(body))),
  )
})

const parsed = parseForm(body)
bench('decodeEvent alone', () => do_not_optimize(decodeEvent(parsed)))

const { benchmarks } = await run()
console.log(
  `\nbody: ${body.length} bytes, runtime: ${typeof Bun === 'undefined' ? 'other' : `bun ${Bun.version}`}`,
)
console.log('| benchmark | ops/s | avg |')
console.log('|---|---:|---:|')
for (const b of benchmarks) {
  const avg = b.runs[0]?.stats?.avg
  if (avg === undefined) continue
  console.log(
    `| ${b.alias} | ${Math.round(1e9 / avg).toLocaleString('en-US')} | ${(avg / 1000).toFixed(2)} µs |`,
  )
}
