import { expect, test } from 'bun:test'
import { nativeClient } from './native'
import { openTestDb, TEST_DRIVERS } from './testing'

for (const driver of TEST_DRIVERS) {
  // Both drivers run the hot path as prepared statements; PGlite's are named by native.ts.
  test(`${driver}: prepared statements are reused, and a failed run leaves them usable`, async () => {
    const database = await openTestDb(driver)
    try {
      const native = nativeClient(database.db)
      expect(native.driver).toBe(driver)
      const text = 'select ($1::text)::int as n'
      expect(await native.query<{ n: number }>(text, ['1'])).toEqual([{ n: 1 }])
      await expect(native.query(text, ['not a number'])).rejects.toThrow()
      expect(await native.query<{ n: number }>(text, ['2'])).toEqual([{ n: 2 }])
      // A transaction that fails, then the statement again, in one and alone.
      await expect(
        native.transaction(async (q) => {
          await q(text, ['x'])
        }),
      ).rejects.toThrow()
      expect(await native.transaction((q) => q<{ n: number }>(text, ['3']))).toEqual([{ n: 3 }])
      const json = await native.query<{ v: unknown; b: boolean }>(
        'select $1::text::jsonb as v, true as b',
        ['{"a":[1,null]}'],
      )
      expect(json).toEqual([{ v: { a: [1, null] }, b: true }])
      await expect(native.query('select 1 from no_such_table', [])).rejects.toThrow(/no_such_table/)
      await expect(native.query('select 1 from no_such_table', [])).rejects.toThrow(/no_such_table/)
    } finally {
      await database.drop()
    }
  })
}

for (const driver of TEST_DRIVERS) {
  // Group commit on PGlite depends on it: the requests that arrived meanwhile must be read (and
  // queued for the next batch) before a statement blocks the thread.
  test(`${driver}: a statement runs only after the event-loop callbacks already due`, async () => {
    const database = await openTestDb(driver)
    try {
      const native = nativeClient(database.db)
      const order: string[] = []
      setImmediate(() => order.push('callback'))
      await Promise.all([
        native.query('select 1', []).then(() => order.push('query')),
        native.transaction((q) => q('select 1', [])).then(() => order.push('transaction')),
      ])
      expect(order[0]).toBe('callback')
    } finally {
      await database.drop()
    }
  })
}
