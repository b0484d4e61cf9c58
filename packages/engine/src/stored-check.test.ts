/**
 * The stored check's batching, without a database: the look-ups of one turn of the event loop
 * share a statement. (Its statement and cached plans are tested on both drivers in plans.test.ts.)
 */
import { expect, test } from 'bun:test'
import type { NativeQuery } from '@telehook/db'
import { createStoredCheck } from './batch'

/** A query that records each statement's keys and answers "stored" for keys starting with `s`. */
function recorder() {
  const calls: string[][] = []
  const query = (async (_text: string, params?: readonly unknown[]) => {
    const keys = JSON.parse(String(params?.[0])) as { o: number; d: string }[]
    calls.push(keys.map((k) => k.d))
    await Bun.sleep(5)
    return keys.filter((k) => k.d.startsWith('s')).map((k) => ({ o: k.o }))
  }) as NativeQuery
  return { calls, query }
}

test('look-ups of one turn of the event loop go in one statement, each with its answer', async () => {
  const { calls, query } = recorder()
  const check = createStoredCheck(query, { maxInflight: 2, maxSize: 256 })
  // Before: the first took a free slot alone, the second the other slot: two statements.
  const answers = await Promise.all(['new1', 'stored1', 'new2'].map((k) => check('default', k)))
  expect(answers).toEqual([false, true, false])
  expect(calls).toEqual([['new1', 'stored1', 'new2']])
})

test('while the slots are busy, the look-ups that wait go together, at most maxSize', async () => {
  const { calls, query } = recorder()
  const check = createStoredCheck(query, { maxInflight: 1, maxSize: 2 })
  const first = check('default', 'a')
  await Bun.sleep(1)
  const rest = ['b', 'c', 's1'].map((k) => check('default', k))
  expect(await Promise.all([first, ...rest])).toEqual([false, false, false, true])
  expect(calls).toEqual([['a'], ['b', 'c'], ['s1']])
})
