import { expect, test } from 'bun:test'
import { EventEmitter } from 'node:events'
import { connect } from 'node:net'
import { createJsonLogger } from './logger'
import {
  DEFAULT_STOP_TIMEOUT_MS,
  drainServer,
  MIN_STOP_TIMEOUT_MS,
  STOP_FINAL_MS,
  stopBudget,
  stopOnSignals,
} from './stop'

test('the default stop fits inside the 10 s docker stop waits before SIGKILL, with 2 s to spare', () => {
  const b = stopBudget()
  expect(b).toEqual({ totalMs: 8000, stopGraceMs: 4500, stopSettleMs: 1500, drainMs: 6000 })
  // Grace, settle, then the last steps (UNLISTEN ≤ 1 s, closing PostgreSQL ≤ 1 s).
  expect(b.stopGraceMs + b.stopSettleMs + STOP_FINAL_MS).toBe(DEFAULT_STOP_TIMEOUT_MS)
  expect(DEFAULT_STOP_TIMEOUT_MS).toBeLessThanOrEqual(10_000 - 2000)
  // The servers drain while the workers stop, not before them.
  expect(b.drainMs).toBe(b.stopGraceMs + b.stopSettleMs)
})

test('any budget: a quarter of what the last steps leave is settle, the rest grace', () => {
  expect(stopBudget(MIN_STOP_TIMEOUT_MS)).toMatchObject({ stopGraceMs: 750, stopSettleMs: 250 })
  expect(stopBudget(30_000)).toMatchObject({ stopGraceMs: 21_000, stopSettleMs: 7000 })
  expect(stopBudget(12_345)).toMatchObject({ stopGraceMs: 7759, stopSettleMs: 2586 })
  // Below the last steps' share (the engine alone accepts it): no grace, no settle.
  expect(stopBudget(500)).toMatchObject({ stopGraceMs: 0, stopSettleMs: 0, drainMs: 0 })
})

test('drainServer: answered requests finish; one still open at the bound is closed', async () => {
  const lines: string[] = []
  const logger = createJsonLogger((l) => lines.push(l))
  const idle = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('ok') })
  expect(await (await fetch(idle.url)).text()).toBe('ok')
  expect(await drainServer(idle, 5000, { logger })).toBe(true)

  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    fetch: async (request) => new Response(`${(await request.text()).length}`),
  })
  // A body that stops arriving: the request stays in flight.
  const socket = connect(server.port ?? 0, '127.0.0.1')
  await new Promise((resolve) => socket.on('connect', resolve))
  const closed = new Promise((resolve) => socket.on('close', resolve))
  socket.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc')
  await Bun.sleep(100)
  const started = performance.now()
  expect(await drainServer(server, 300, { logger, what: 'webhook' })).toBe(false)
  const took = performance.now() - started
  expect(took).toBeGreaterThanOrEqual(290)
  expect(took).toBeLessThan(2000)
  await closed
  expect(lines.map((l) => JSON.parse(l))).toEqual([
    expect.objectContaining({ level: 'warn', server: 'webhook', drain_ms: 300 }),
  ])
})

function signals() {
  const source = new EventEmitter()
  const exits: number[] = []
  const lines: string[] = []
  let clock = 0
  const stop = stopOnSignals(source, {
    name: 'telehook',
    exit: (code) => exits.push(code),
    log: (line) => lines.push(line),
    now: () => clock,
  })
  return { source, exits, lines, stop, advance: (ms: number) => (clock += ms) }
}

test('one Ctrl-C relayed three times (terminal, turbo, bun run) is one stop request', async () => {
  const { source, exits, lines, stop, advance } = signals()
  source.emit('SIGINT')
  advance(11)
  source.emit('SIGINT')
  advance(30)
  source.emit('SIGINT')
  expect(await stop).toBe('SIGINT')
  expect(exits).toEqual([])
  expect(lines).toEqual([])
})

test('a signal well after the first cuts the stop short: one line, then 128 + its number', async () => {
  const { source, exits, lines, stop, advance } = signals()
  source.emit('SIGTERM')
  expect(await stop).toBe('SIGTERM')
  advance(2500)
  source.emit('SIGINT')
  advance(10)
  source.emit('SIGTERM')
  expect(exits).toEqual([130, 143])
  expect(lines).toHaveLength(2)
  expect(lines[0]).toStartWith('telehook: SIGINT while stopping: stop cut short, exit 130 now;')
  expect(lines[1]).toStartWith('telehook: SIGTERM while stopping: stop cut short, exit 143 now;')
  expect(lines[1]).toContain('left to their leases')
})
