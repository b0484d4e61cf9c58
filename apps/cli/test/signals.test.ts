import { expect, test } from 'bun:test'
import { EventEmitter } from 'node:events'
import { stopOnSignals } from '../src/signals.ts'

function setup() {
  const source = new EventEmitter()
  const exits: number[] = []
  let clock = 0
  const stop = stopOnSignals(source, {
    exit: (code) => exits.push(code),
    now: () => clock,
  })
  return { source, exits, stop, advance: (ms: number) => (clock += ms) }
}

test('one Ctrl-C relayed three times (terminal, turbo, bun run) is one stop request', async () => {
  const { source, exits, stop, advance } = setup()
  source.emit('SIGINT')
  advance(11)
  source.emit('SIGINT')
  advance(30)
  source.emit('SIGINT')
  expect(await stop).toBe('SIGINT')
  expect(exits).toEqual([])
})

test('a signal well after the first exits at once (128 + its number)', async () => {
  const { source, exits, stop, advance } = setup()
  source.emit('SIGTERM')
  expect(await stop).toBe('SIGTERM')
  advance(2500)
  source.emit('SIGINT')
  advance(10)
  source.emit('SIGTERM')
  expect(exits).toEqual([130, 143])
})
