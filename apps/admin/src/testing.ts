/** @module Test helpers of the admin app (not exported by the package). */

/**
 * A ciphertext in the first storage format (base64(iv ‖ ciphertext ‖ tag), constant associated
 * data), as Telehook wrote before keys were bound to their project: for migration tests.
 */
export async function legacyCiphertext(base64Key: string, plaintext: string): Promise<string> {
  const raw = Uint8Array.from(atob(base64Key), (c) => c.charCodeAt(0))
  const key = await crypto.subtle.importKey('raw', raw, 'AES-GCM', false, ['encrypt'])
  const iv = crypto.getRandomValues(new Uint8Array(12))
  const ct = new Uint8Array(
    await crypto.subtle.encrypt(
      {
        name: 'AES-GCM',
        iv,
        additionalData: new TextEncoder().encode('telehook:telerivet-api-key:v1'),
      },
      key,
      new TextEncoder().encode(plaintext),
    ),
  )
  return btoa(String.fromCharCode(...iv, ...ct))
}
