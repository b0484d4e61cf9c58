import { expect, test } from 'bun:test'
import { createJsonLogger } from './logger'

function levelsWritten(level?: 'debug' | 'info' | 'warn' | 'error'): string[] {
  const lines: string[] = []
  const logger = createJsonLogger((l) => lines.push(l), level ? { level } : {})
  logger.debug?.({ msg: 'd' })
  logger.info({ msg: 'i' })
  logger.warn({ msg: 'w' })
  logger.error({ msg: 'e' })
  return lines.map((l) => JSON.parse(l).level)
}

test('LOG_LEVEL keeps the lines at that level and above; info by default', () => {
  expect(levelsWritten()).toEqual(['info', 'warn', 'error'])
  expect(levelsWritten('debug')).toEqual(['debug', 'info', 'warn', 'error'])
  expect(levelsWritten('warn')).toEqual(['warn', 'error'])
  expect(levelsWritten('error')).toEqual(['error'])
})

test('each line is JSON with time and level first', () => {
  const lines: string[] = []
  createJsonLogger((l) => lines.push(l)).info({ msg: 'hi', n: 1n, error: new Error('boom') })
  const line = JSON.parse(lines[0] ?? '{}')
  expect(Object.keys(line).slice(0, 2)).toEqual(['time', 'level'])
  expect(line).toMatchObject({ msg: 'hi', n: '1', error: { name: 'Error', message: 'boom' } })
})
