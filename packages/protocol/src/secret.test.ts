import { describe, expect, test } from 'bun:test'
import { generateSecret, hashSecret, sha256Hex, timingSafeEqual, verifySecret } from './secret.ts'

describe('secrets', () => {
  test('sha256Hex matches known digests', async () => {
    expect(await sha256Hex('')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    )
    expect(await sha256Hex('abc')).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    )
    expect(await hashSecret('abc')).toBe(await sha256Hex('abc'))
    // UTF-8 bytes, not UTF-16 units
    expect(await sha256Hex('é')).toBe(
      '4a99557e4033c3539de2eb65472017cad5f9557f7a0625a09f1c3f6e2ba69c4c',
    )
  })

  test('timingSafeEqual', () => {
    const a = new Uint8Array([1, 2, 3])
    expect(timingSafeEqual(a, new Uint8Array([1, 2, 3]))).toBe(true)
    expect(timingSafeEqual(a, new Uint8Array([1, 2, 4]))).toBe(false)
    expect(timingSafeEqual(a, new Uint8Array([1, 2]))).toBe(false)
    expect(timingSafeEqual(new Uint8Array(), new Uint8Array())).toBe(true)
  })

  test('verifySecret checks every stored hash', async () => {
    const current = await hashSecret('new-secret')
    const previous = await hashSecret('old-secret')
    expect(await verifySecret('new-secret', [current, previous])).toBe(true)
    expect(await verifySecret('old-secret', [current, previous])).toBe(true)
    expect(await verifySecret('old-secret', [current])).toBe(false)
    expect(await verifySecret('other', [current, previous])).toBe(false)
    expect(await verifySecret('new-secret', [])).toBe(false)
    expect(await verifySecret('new-secret', [current.toUpperCase()])).toBe(true)
    expect(await verifySecret('new-secret', ['not-a-hash'])).toBe(false)
  })

  test('a missing or empty candidate never matches, even the hash of the empty string', async () => {
    const empty = await hashSecret('')
    expect(await verifySecret('', [empty])).toBe(false)
    expect(await verifySecret(undefined, [empty])).toBe(false)
    expect(await verifySecret(null, [empty])).toBe(false)
  })

  test('generateSecret: URL-safe, at least 128 bits, distinct', () => {
    const s = generateSecret()
    expect(s).toMatch(/^[A-Za-z0-9_-]{32}$/) // 24 bytes = 32 base64 characters
    expect(generateSecret(16)).toMatch(/^[A-Za-z0-9_-]{22}$/)
    expect(new Set(Array.from({ length: 100 }, () => generateSecret())).size).toBe(100)
    expect(() => generateSecret(15)).toThrow(RangeError)
    expect(() => generateSecret(16.5)).toThrow(RangeError)
  })
})
