import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDb, projects } from '@telehook/db'
import { openTestDb, TEST_DRIVERS } from '@telehook/db/testing'
import { cutShortLine, signalTwice, stalledRequest } from '@telehook/engine/testing'
import { AdminConfigError, loadAdminConfig, publicUrlProblem } from './config'
import {
  DecryptError,
  decryptSecret,
  encryptSecret,
  importMasterKey,
  isLegacyCiphertext,
  loadMasterKey,
  masterKeyId,
} from './crypto'
import { legacyCiphertext } from './testing'

const KEY = btoa(String.fromCharCode(...new Uint8Array(32).fill(7)))

describe('loadAdminConfig', () => {
  test('defaults: 127.0.0.1:8081, Telerivet API, nothing else required', () => {
    expect(loadAdminConfig({})).toEqual({
      allowedHosts: ['localhost', '127.0.0.1', '[::1]'],
      port: 8081,
      host: '127.0.0.1',
      publicUrl: undefined,
      telerivetApiUrl: 'https://api.telerivet.com/v1',
      adminToken: undefined,
      masterKey: undefined,
      stopTimeoutMs: 8000,
    })
  })

  test('reads every variable and trims trailing slashes', () => {
    const c = loadAdminConfig({
      ADMIN_PORT: '9090',
      ADMIN_HOST: '0.0.0.0',
      TELEHOOK_PUBLIC_URL: 'https://hooks.example.com/',
      TELERIVET_API_URL: 'http://127.0.0.1:8090/v1/',
      TELEHOOK_ADMIN_TOKEN: 'a-long-enough-token',
      TELEHOOK_MASTER_KEY: KEY,
      TELEHOOK_STOP_TIMEOUT_MS: '25000',
    })
    expect(c).toEqual({
      allowedHosts: '*',
      port: 9090,
      host: '0.0.0.0',
      publicUrl: 'https://hooks.example.com',
      telerivetApiUrl: 'http://127.0.0.1:8090/v1',
      adminToken: 'a-long-enough-token',
      masterKey: KEY,
      stopTimeoutMs: 25_000,
    })
  })

  test('ADMIN_ALLOWED_HOSTS narrows or opens the Hosts the admin API answers', () => {
    expect(
      loadAdminConfig({ ADMIN_ALLOWED_HOSTS: 'Admin.Example.com, 10.0.0.5' }).allowedHosts,
    ).toEqual(['admin.example.com', '10.0.0.5'])
    expect(loadAdminConfig({ ADMIN_ALLOWED_HOSTS: '*' }).allowedHosts).toBe('*')
    expect(() => loadAdminConfig({ ADMIN_ALLOWED_HOSTS: 'admin.example.com:8081' })).toThrow(
      'ADMIN_ALLOWED_HOSTS',
    )
  })

  test('one clear line per bad value, all at once', () => {
    let err: unknown
    try {
      loadAdminConfig({
        ADMIN_PORT: '80a',
        TELEHOOK_PUBLIC_URL: 'hooks.example.com',
        TELERIVET_API_URL: 'ftp://x',
        TELEHOOK_ADMIN_TOKEN: 'short',
        TELEHOOK_MASTER_KEY: btoa('too short'),
      })
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(AdminConfigError)
    const lines = (err as AdminConfigError).problems
    expect(lines.length).toBe(5)
    for (const [i, name] of [
      'ADMIN_PORT',
      'TELEHOOK_PUBLIC_URL',
      'TELERIVET_API_URL',
      'TELEHOOK_ADMIN_TOKEN',
      'TELEHOOK_MASTER_KEY',
    ].entries()) {
      expect(lines[i]).toStartWith(name)
      expect(lines[i]).not.toContain('\n')
    }
    expect(() => loadAdminConfig({ ADMIN_PORT: '70000' })).toThrow('ADMIN_PORT')
  })

  test('TELEHOOK_STOP_TIMEOUT_MS: milliseconds from 3000 to an hour, in the webhook loader’s words', () => {
    expect(loadAdminConfig({ TELEHOOK_STOP_TIMEOUT_MS: '3000' }).stopTimeoutMs).toBe(3000)
    expect(loadAdminConfig({ TELEHOOK_STOP_TIMEOUT_MS: ' ' }).stopTimeoutMs).toBe(8000)
    for (const [bad, got] of [
      ['10s', '"10s"'],
      ['2999', '2999'],
      ['3600001', '3600001'],
      ['-5000', '"-5000"'],
    ]) {
      let err: unknown
      try {
        loadAdminConfig({ TELEHOOK_STOP_TIMEOUT_MS: bad })
      } catch (e) {
        err = e
      }
      expect((err as AdminConfigError).problems).toEqual([
        `TELEHOOK_STOP_TIMEOUT_MS must be a whole number of milliseconds from 3000 to 3600000: the whole stop, to keep under the time your supervisor waits before SIGKILL (docker stop: 10 s) (got ${got})`,
      ])
    }
  })

  test('public URL rule: https, or http on a port Telerivet accepts', () => {
    for (const ok of [
      'https://h.example.com',
      'https://h.example.com:8443',
      'http://h.example.com',
      'http://127.0.0.1:8000',
      'http://h:8080/base',
      'http://h:8443',
    ]) {
      expect(publicUrlProblem(ok)).toBeNull()
    }
    expect(publicUrlProblem('http://h:3000')).toContain('port 3000')
    // The spec's port rule holds for https as well.
    expect(publicUrlProblem('https://h:9443')).toContain('port 9443')
    expect(publicUrlProblem('ftp://h')).toContain('http or https')
    expect(publicUrlProblem('nope')).toContain('not a URL')
  })
})

describe('master key and API key encryption', () => {
  const dirs: string[] = []
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  test('AES-GCM round trip; a fresh IV each time; tampering and the wrong key fail', async () => {
    const key = await importMasterKey(KEY)
    const a = await encryptSecret(key, 'api-key-123', 'PJ1')
    const b = await encryptSecret(key, 'api-key-123', 'PJ1')
    expect(a).not.toBe(b)
    expect(a).not.toContain('api-key-123')
    expect(a).toStartWith(`v2.${masterKeyId(key)}.`)
    expect(await decryptSecret(key, a, 'PJ1')).toBe('api-key-123')
    const other = await importMasterKey(btoa(String.fromCharCode(...new Uint8Array(32).fill(8))))
    expect(masterKeyId(other)).not.toBe(masterKeyId(key))
    await expect(decryptSecret(other, a, 'PJ1')).rejects.toThrow(DecryptError)
    const body = a.slice(a.lastIndexOf('.') + 1)
    const bytes = Uint8Array.from(atob(body), (c) => c.charCodeAt(0))
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1
    const altered = `${a.slice(0, a.lastIndexOf('.') + 1)}${btoa(String.fromCharCode(...bytes))}`
    await expect(decryptSecret(key, altered, 'PJ1')).rejects.toThrow(DecryptError)
  })

  test('a ciphertext is bound to its project and to the key id written beside it', async () => {
    const key = await importMasterKey(KEY)
    const ct = await encryptSecret(key, 'key-of-PJ1', 'PJ1')
    // Copied onto another project's row, it does not decrypt.
    await expect(decryptSecret(key, ct, 'PJ2')).rejects.toThrow('PJ2')
    // Relabelled with another key id, it does not decrypt either.
    const other = await importMasterKey(btoa(String.fromCharCode(...new Uint8Array(32).fill(9))))
    const relabelled = ct.replace(masterKeyId(key), masterKeyId(other))
    await expect(decryptSecret(other, relabelled, 'PJ1')).rejects.toThrow(DecryptError)
    // The same key imported again has the same id (every instance agrees).
    expect(masterKeyId(await importMasterKey(KEY))).toBe(masterKeyId(key))
    const err = await decryptSecret(other, ct, 'PJ1').catch((e) => e)
    expect(err).toBeInstanceOf(DecryptError)
    expect(err.storedKeyId).toBe(masterKeyId(key))
  })

  test('the first format (constant associated data) is still read', async () => {
    const key = await importMasterKey(KEY)
    const legacy = await legacyCiphertext(KEY, 'old-api-key')
    expect(isLegacyCiphertext(legacy)).toBe(true)
    expect(await decryptSecret(key, legacy, 'any project')).toBe('old-api-key')
  })

  test('TELEHOOK_MASTER_KEY wins; a bad one is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'telehook-admin-'))
    dirs.push(dir)
    const key = await loadMasterKey({ env: { TELEHOOK_MASTER_KEY: KEY }, dataDir: dir })
    const ct = await encryptSecret(key, 'x', 'PJ1')
    expect(await decryptSecret(await importMasterKey(KEY), ct, 'PJ1')).toBe('x')
    await expect(stat(join(dir, 'master.key'))).rejects.toThrow()
    await expect(
      loadMasterKey({ env: { TELEHOOK_MASTER_KEY: 'abc' }, dataDir: dir }),
    ).rejects.toThrow('TELEHOOK_MASTER_KEY')
  })

  test('without the variable a key file is created once, mode 0600, and reused', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'telehook-admin-')), 'data')
    dirs.push(dir)
    const k1 = await loadMasterKey({ env: {}, dataDir: dir })
    const path = join(dir, 'master.key')
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const content = (await readFile(path, 'utf8')).trim()
    expect(Uint8Array.from(atob(content), (c) => c.charCodeAt(0)).length).toBe(32)
    const ct = await encryptSecret(k1, 'survives a restart', 'PJ1')
    const k2 = await loadMasterKey({ env: {}, dataDir: dir })
    expect(await decryptSecret(k2, ct, 'PJ1')).toBe('survives a restart')
    expect((await readFile(path, 'utf8')).trim()).toBe(content)
  })
})

describe('main.ts', () => {
  test('a bad configuration stops the process with one line per variable', async () => {
    const proc = Bun.spawn(['bun', join(import.meta.dir, 'main.ts')], {
      env: {
        PATH: process.env.PATH ?? '',
        ADMIN_PORT: 'eighty',
        TELEHOOK_MASTER_KEY: 'nope',
        TELEHOOK_STOP_TIMEOUT_MS: '10s',
      },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const [code, err] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
    expect(code).toBe(1)
    const lines = err.trim().split('\n')
    expect(lines.length).toBe(3)
    expect(lines[0]).toStartWith('ADMIN_PORT')
    expect(lines[1]).toStartWith('TELEHOOK_MASTER_KEY')
    expect(lines[2]).toStartWith(
      'TELEHOOK_STOP_TIMEOUT_MS must be a whole number of milliseconds from 3000',
    )
  })
})

/**
 * Starts `main.ts` with `env` (and PATH) and resolves once it logs that it listens; its stderr
 * stays unread for the test.
 */
async function spawnAdminMain(env: Record<string, string>) {
  const proc = Bun.spawn(['bun', join(import.meta.dir, 'main.ts')], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const reader = proc.stdout.getReader()
  let out = ''
  while (!out.includes('admin API listening')) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`main.ts exited: ${out} ${await new Response(proc.stderr).text()}`)
    out += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  return proc
}

describe('main.ts stopping', () => {
  for (const driver of TEST_DRIVERS) {
    test(`${driver}: a second SIGTERM during the stop exits at once with 143, after one line`, async () => {
      const probe = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('') })
      const port = probe.port ?? 0
      probe.stop(true)
      const dataDir = await mkdtemp(join(tmpdir(), 'telehook-admin-stop-'))
      const owner = driver === 'postgres' ? await openTestDb('postgres') : null
      const databaseUrl = owner?.url ?? ''
      const token = 'stop-test-token-0123456789'
      let proc: Awaited<ReturnType<typeof spawnAdminMain>> | undefined
      try {
        proc = await spawnAdminMain({
          ADMIN_PORT: String(port),
          DATABASE_URL: databaseUrl,
          TELEHOOK_DATA_DIR: dataDir,
          TELEHOOK_ADMIN_TOKEN: token,
        })
        // A request whose body stops arriving holds the drain.
        const socket = await stalledRequest(
          port,
          `POST /v1/projects HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"project_id":`,
        )
        await Bun.sleep(100)
        const two = await signalTwice(proc)
        expect(two).toMatchObject({ runningAtSecond: true, exitCode: 143 })
        expect(two.exitAfterMs).toBeLessThan(1000)
        const lines = (await new Response(proc.stderr).text()).trim().split('\n')
        expect(lines).toHaveLength(2)
        expect(lines[0]).toBe(
          'telehook-admin: SIGTERM, draining (at most 8 s; a later signal exits at once)',
        )
        expect(lines[1]).toStartWith(cutShortLine('telehook-admin'))
        socket.destroy()
      } finally {
        if (proc?.exitCode === null) proc.kill('SIGKILL')
        await proc?.exited
        await owner?.drop()
        await rm(dataDir, { recursive: true, force: true })
      }
    }, 60_000)
  }
})

describe('main.ts serving', () => {
  test('listens on ADMIN_HOST:ADMIN_PORT with docs open and /v1 behind the token', async () => {
    const probe = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('') })
    const port = probe.port
    probe.stop(true)
    const dataDir = await mkdtemp(join(tmpdir(), 'telehook-admin-main-'))
    let proc: Awaited<ReturnType<typeof spawnAdminMain>> | undefined
    try {
      proc = await spawnAdminMain({
        ADMIN_PORT: String(port),
        TELEHOOK_DATA_DIR: dataDir,
        TELEHOOK_ADMIN_TOKEN: 'main-test-token-0123456789',
        TELEHOOK_PUBLIC_URL: 'https://hooks.example.com',
      })
      const base = `http://127.0.0.1:${port}`
      expect((await fetch(`${base}/docs/json`)).status).toBe(200)
      expect((await fetch(`${base}/v1/projects`)).status).toBe(401)
      const ok = await fetch(`${base}/v1/projects`, {
        headers: { authorization: 'Bearer main-test-token-0123456789' },
      })
      expect(await ok.json()).toEqual({ data: [] })
      expect((await stat(join(dataDir, 'master.key'))).mode & 0o777).toBe(0o600)
      // The database lives in the data folder too (PGlite's files), not in memory.
      expect(await readdir(dataDir)).toContain('PG_VERSION')

      // A stored API key the master key cannot decrypt stops the next start with one line.
      proc.kill()
      await proc.exited
      const database = await openDb({ dataDir })
      const other = await importMasterKey(btoa(String.fromCharCode(...new Uint8Array(32).fill(3))))
      await database.db.insert(projects).values({
        id: 'PJfromelsewhere',
        name: 'made with another key',
        apiKeyCiphertext: await encryptSecret(other, 'k', 'PJfromelsewhere'),
      })
      await database.close()
      const again = Bun.spawn(['bun', join(import.meta.dir, 'main.ts')], {
        env: {
          PATH: process.env.PATH ?? '',
          ADMIN_PORT: String(port),
          TELEHOOK_DATA_DIR: dataDir,
          TELEHOOK_ADMIN_TOKEN: 'main-test-token-0123456789',
        },
        stdout: 'pipe',
        stderr: 'pipe',
      })
      const [code, err] = await Promise.all([again.exited, new Response(again.stderr).text()])
      expect(code).toBe(1)
      expect(err.trim().split('\n')).toEqual([expect.stringContaining('PJfromelsewhere')])
      expect(err).toContain(masterKeyId(other))
    } finally {
      proc?.kill()
      await proc?.exited
      await rm(dataDir, { recursive: true, force: true })
    }
  }, 60_000)
})
