import { expect, test } from 'bun:test'
import { stopEach } from '../src/serve'

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
