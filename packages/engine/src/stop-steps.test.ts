import { expect, test } from 'bun:test'
import { stopEach, stopTogether } from './stop'

test('stopEach runs every step after a failure, in order, and throws the first failure', async () => {
  const ran: string[] = []
  const run = stopEach([
    () => {
      ran.push('webhook')
      throw new Error('webhook would not stop')
    },
    async () => {
      ran.push('worker')
      throw new Error('worker would not stop')
    },
    async () => {
      ran.push('database')
    },
  ])
  await expect(run).rejects.toThrow('webhook would not stop')
  expect(ran).toEqual(['webhook', 'worker', 'database'])
})

test('stopEach resolves when every step stops', async () => {
  const ran: number[] = []
  await stopEach([1, 2, 3].map((n) => () => void ran.push(n)))
  expect(ran).toEqual([1, 2, 3])
})

test('stopTogether starts every step at once, waits for all, and throws the first failure', async () => {
  const started: string[] = []
  let release: () => void = () => {}
  const slow = new Promise<void>((resolve) => {
    release = resolve
  })
  let done = false
  const run = stopTogether([
    async () => {
      started.push('webhook')
      await slow
    },
    () => {
      started.push('worker')
      throw new Error('worker would not stop')
    },
    async () => {
      started.push('admin')
      throw new Error('admin would not stop')
    },
  ]).finally(() => {
    done = true
  })
  // The failures do not end it while the drain still runs.
  await Bun.sleep(20)
  expect(started).toEqual(['webhook', 'worker', 'admin'])
  expect(done).toBe(false)
  release()
  await expect(run).rejects.toThrow('worker would not stop')
})
