import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { projects } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { eq } from 'drizzle-orm'
import { verifyStoredApiKeys } from './api-keys'
import {
  decryptSecret,
  encryptSecret,
  importMasterKey,
  isLegacyCiphertext,
  masterKeyId,
} from './crypto'
import { legacyCiphertext } from './testing'

const KEY = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))
const OTHER = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))))

describe.each(TEST_DRIVERS)('stored API keys at start-up on %s', (driver) => {
  let database: Awaited<ReturnType<typeof openTestDb>>
  let key: CryptoKey
  let other: CryptoKey

  beforeAll(async () => {
    database = await openTestDb(driver)
    key = await importMasterKey(KEY)
    other = await importMasterKey(OTHER)
    const current = await encryptSecret(key, 'key-current', 'PJcurrent')
    await database.db.insert(projects).values([
      {
        id: 'PJlegacy',
        name: 'legacy',
        apiKeyCiphertext: await legacyCiphertext(KEY, 'key-legacy'),
      },
      { id: 'PJcurrent', name: 'current', apiKeyCiphertext: current },
      {
        id: 'PJother',
        name: 'other key',
        apiKeyCiphertext: await encryptSecret(other, 'k', 'PJother'),
      },
      // Another project's ciphertext copied onto this row.
      { id: 'PJswapped', name: 'swapped', apiKeyCiphertext: current },
      { id: 'PJnokey', name: 'no key', apiKeyCiphertext: null },
    ])
  })

  afterAll(async () => {
    await database?.drop()
  })

  test('one line names the projects the key cannot decrypt; the first format is rewritten', async () => {
    const report = await verifyStoredApiKeys(database, key)
    expect(report).toMatchObject({ keyId: masterKeyId(key), checked: 4, migrated: 1 })
    expect(report.failed).toEqual([
      { projectId: 'PJother', storedKeyId: masterKeyId(other) },
      { projectId: 'PJswapped', storedKeyId: masterKeyId(key) },
    ])
    expect(report.problem?.split('\n').length).toBe(1)
    expect(report.problem).toContain('PJother, PJswapped')
    expect(report.problem).toContain(masterKeyId(key))
    expect(report.problem).toContain(masterKeyId(other))
    expect(report.problem).not.toContain('key-')

    const [row] = await database.db.select().from(projects).where(eq(projects.id, 'PJlegacy'))
    const stored = row?.apiKeyCiphertext ?? ''
    expect(isLegacyCiphertext(stored)).toBe(false)
    expect(await decryptSecret(key, stored, 'PJlegacy')).toBe('key-legacy')

    const again = await verifyStoredApiKeys(database, key)
    expect(again.migrated).toBe(0)
  })

  test('a key that decrypts everything reports no problem', async () => {
    await database.db.delete(projects).where(eq(projects.id, 'PJother'))
    await database.db.delete(projects).where(eq(projects.id, 'PJswapped'))
    expect((await verifyStoredApiKeys(database, key)).problem).toBeNull()
  })
})
