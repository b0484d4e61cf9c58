import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { projects } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { createEndpoint, createEngine, silentLogger } from '@telehook/engine'
import { createDestination } from '@telehook/engine/forward'
import { parseForm } from '@telehook/protocol'
import { parseRoles, UsageError } from '../src/args.ts'
import { checkForwarderConfig, startWorkerRole } from '../src/roles.ts'

test('roles: unset means all three; a list picks some; anything else is refused', () => {
  expect([...parseRoles(undefined, '--role')].sort()).toEqual(['admin', 'webhook', 'worker'])
  expect([...parseRoles(' webhook , worker', '--role')].sort()).toEqual(['webhook', 'worker'])
  expect([...parseRoles('admin', '--role')]).toEqual(['admin'])
  expect(() => parseRoles('webhook,receiver', '--role (TELEHOOK_ROLE)')).toThrow(
    '--role (TELEHOOK_ROLE) must be a comma-separated list of webhook, admin, worker (got "receiver")',
  )
  expect(() => parseRoles('webhook,', '--role')).toThrow(UsageError)
})

test('a bad TELEHOOK_FORWARD_* value is a usage error naming it', () => {
  expect(() => checkForwarderConfig({ TELEHOOK_FORWARD_TIMEOUT_MS: 'x' })).toThrow(
    /^TELEHOOK_FORWARD_TIMEOUT_MS: must be a whole number/,
  )
  expect(() => checkForwarderConfig({})).not.toThrow()
})

const received: { id: string | null }[] = []
const destination = Bun.serve({
  port: 0,
  hostname: '127.0.0.1',
  fetch(req) {
    received.push({ id: req.headers.get('webhook-id') })
    return new Response('ok')
  },
})
const dirs: string[] = []
afterAll(async () => {
  destination.stop(true)
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

const MASTER = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))

for (const driver of TEST_DRIVERS) {
  describe(`the worker role on ${driver}`, () => {
    test('forwards a stored event to its destination', async () => {
      const database = await openTestDb(driver)
      const dataDir = await mkdtemp(join(tmpdir(), 'telehook-roles-'))
      dirs.push(dataDir)
      try {
        const env = { TELEHOOK_MASTER_KEY: MASTER, TELEHOOK_FORWARD_TIMEOUT_MS: '5000' }
        const role = await startWorkerRole({
          database,
          handlers: undefined,
          logger: silentLogger,
          env,
          dataDir,
        })
        expect(role.banner).toBe('Worker running: async handlers and forwarding')
        const { importMasterKey } = await import('@telehook/admin')
        await database.db.insert(projects).values({ id: 'PJrole', name: 'role' })
        await createDestination(database, await importMasterKey(MASTER), {
          projectId: 'PJrole',
          url: `http://127.0.0.1:${destination.port}/`,
        })
        const endpoint = await createEndpoint(database, {
          kind: 'project',
          projectId: 'PJrole',
          secret: 's'.repeat(20),
        })
        const r = await createEngine({ database }).ingest(
          endpoint,
          parseForm(`event=incoming_message&id=SMrole${driver}&content=hi&project_id=PJrole`),
        )
        for (let i = 0; i < 500 && !received.some((x) => x.id === r.eventId); i++) {
          await Bun.sleep(20)
        }
        expect(received.filter((x) => x.id === r.eventId)).toHaveLength(1)
        await role.stop()
      } finally {
        await database.drop()
      }
    })
  })
}

test('on PostgreSQL without TELEHOOK_MASTER_KEY the worker runs without forwarding', async () => {
  if (!TEST_DRIVERS.includes('postgres')) return
  const database = await openTestDb('postgres')
  try {
    const role = await startWorkerRole({
      database,
      handlers: undefined,
      logger: silentLogger,
      env: {},
      dataDir: '/nonexistent',
    })
    expect(role.banner).toContain('forwarding off (TELEHOOK_MASTER_KEY is not set')
    await role.stop()
  } finally {
    await database.drop()
  }
})

test("the worker reads the admin API's master key: the variable, else the same key file", async () => {
  const { loadMasterKey } = await import('@telehook/admin')
  const { openSecret, sealSecret } = await import('@telehook/engine/forward')
  const { loadForwardingKey } = await import('../src/roles.ts')
  const dataDir = await mkdtemp(join(tmpdir(), 'telehook-key-'))
  dirs.push(dataDir)
  const sealed = await sealSecret(await loadMasterKey({ env: {}, dataDir }), 'whsec_same')
  expect(await openSecret(await loadForwardingKey({}, dataDir), sealed)).toBe('whsec_same')
  const fromEnv = await sealSecret(
    await loadMasterKey({ env: { TELEHOOK_MASTER_KEY: MASTER }, dataDir }),
    'whsec_env',
  )
  const key = await loadForwardingKey({ TELEHOOK_MASTER_KEY: MASTER }, dataDir)
  expect(await openSecret(key, fromEnv)).toBe('whsec_env')
  await expect(loadForwardingKey({ TELEHOOK_MASTER_KEY: 'short' }, dataDir)).rejects.toThrow(
    'TELEHOOK_MASTER_KEY must be 32 bytes in base64',
  )
})
