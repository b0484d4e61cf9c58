import { afterAll, describe, expect, test } from 'bun:test'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AdminConfigError, loadAdminConfig, publicUrlProblem } from './config'
import { decryptSecret, encryptSecret, importMasterKey, loadMasterKey } from './crypto'

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
    })
    expect(c).toEqual({
      allowedHosts: '*',
      port: 9090,
      host: '0.0.0.0',
      publicUrl: 'https://hooks.example.com',
      telerivetApiUrl: 'http://127.0.0.1:8090/v1',
      adminToken: 'a-long-enough-token',
      masterKey: KEY,
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
    const a = await encryptSecret(key, 'api-key-123')
    const b = await encryptSecret(key, 'api-key-123')
    expect(a).not.toBe(b)
    expect(a).not.toContain('api-key-123')
    expect(await decryptSecret(key, a)).toBe('api-key-123')
    const other = await importMasterKey(btoa(String.fromCharCode(...new Uint8Array(32).fill(8))))
    await expect(decryptSecret(other, a)).rejects.toThrow()
    const bytes = Uint8Array.from(atob(a), (c) => c.charCodeAt(0))
    bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1
    await expect(decryptSecret(key, btoa(String.fromCharCode(...bytes)))).rejects.toThrow()
  })

  test('TELEHOOK_MASTER_KEY wins; a bad one is refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'telehook-admin-'))
    dirs.push(dir)
    const key = await loadMasterKey({ env: { TELEHOOK_MASTER_KEY: KEY }, dataDir: dir })
    const ct = await encryptSecret(key, 'x')
    expect(await decryptSecret(await importMasterKey(KEY), ct)).toBe('x')
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
    const ct = await encryptSecret(k1, 'survives a restart')
    const k2 = await loadMasterKey({ env: {}, dataDir: dir })
    expect(await decryptSecret(k2, ct)).toBe('survives a restart')
    expect((await readFile(path, 'utf8')).trim()).toBe(content)
  })
})

describe('main.ts', () => {
  test('a bad configuration stops the process with one line per variable', async () => {
    const proc = Bun.spawn(['bun', join(import.meta.dir, 'main.ts')], {
      env: { PATH: process.env.PATH ?? '', ADMIN_PORT: 'eighty', TELEHOOK_MASTER_KEY: 'nope' },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    const [code, err] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
    expect(code).toBe(1)
    const lines = err.trim().split('\n')
    expect(lines.length).toBe(2)
    expect(lines[0]).toStartWith('ADMIN_PORT')
    expect(lines[1]).toStartWith('TELEHOOK_MASTER_KEY')
  })
})

describe('main.ts serving', () => {
  test('listens on ADMIN_HOST:ADMIN_PORT with docs open and /v1 behind the token', async () => {
    const probe = Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: () => new Response('') })
    const port = probe.port
    probe.stop(true)
    const dataDir = await mkdtemp(join(tmpdir(), 'telehook-admin-main-'))
    const proc = Bun.spawn(['bun', join(import.meta.dir, 'main.ts')], {
      env: {
        PATH: process.env.PATH ?? '',
        ADMIN_PORT: String(port),
        TELEHOOK_DATA_DIR: dataDir,
        TELEHOOK_ADMIN_TOKEN: 'main-test-token-0123456789',
        TELEHOOK_PUBLIC_URL: 'https://hooks.example.com',
      },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    try {
      const reader = proc.stdout.getReader()
      let out = ''
      while (!out.includes('admin API listening')) {
        const { value, done } = await reader.read()
        if (done)
          throw new Error(`main.ts exited: ${out} ${await new Response(proc.stderr).text()}`)
        out += new TextDecoder().decode(value)
      }
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
    } finally {
      proc.kill()
      await proc.exited
      await rm(dataDir, { recursive: true, force: true })
    }
  }, 30_000)
})
