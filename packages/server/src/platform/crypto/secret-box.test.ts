import { describe, expect, it } from 'vitest';
import { loadSecretBox } from './encryption-keys.js';
import { deriveEncryptionKey, isSealed, SecretBox, SecretKeyError } from './secret-box.js';

const oldMaterial = 'the-old-encryption-key-0123456789';
const newMaterial = 'the-new-encryption-key-9876543210';
const secret = 'sk-upstream-secret-key-abcdef0123456789';
const context = 'connections.api_key:c1';

describe('SecretBox', () => {
  it('seals with AES-256-GCM under a versioned prefix and a fresh IV each time, and opens what it sealed', async () => {
    const key = await deriveEncryptionKey(newMaterial, 'PARLEY_ENCRYPTION_KEY');
    const box = new SecretBox(key);
    const first = box.seal(secret, context);
    const second = box.seal(secret, context);
    expect(first).toMatch(new RegExp(`^enc:v1:${key.id}:[A-Za-z0-9_-]+$`));
    expect(first).not.toContain(secret);
    expect(second).not.toBe(first);
    // 12-byte IV + ciphertext + 16-byte tag.
    expect(Buffer.from(first.split(':')[3]!, 'base64url')).toHaveLength(12 + secret.length + 16);
    expect(box.open(first, context)).toBe(secret);
    expect(box.open(second, context)).toBe(secret);
  });

  it('derives the same key id from the same material and different ids from different material', async () => {
    const a = await deriveEncryptionKey(newMaterial, 'x');
    const b = await deriveEncryptionKey(newMaterial, 'y');
    const c = await deriveEncryptionKey(oldMaterial, 'x');
    expect(a.id).toMatch(/^[0-9a-f]{8}$/);
    expect(b.id).toBe(a.id);
    expect(c.id).not.toBe(a.id);
  });

  it('passes plain legacy values and the empty string through, and leaves them plain without a key', () => {
    const none = new SecretBox(undefined);
    expect(none.seal(secret, context)).toBe(secret);
    expect(none.open(secret, context)).toBe(secret);
    expect(none.reseal(secret, context)).toBeUndefined();
    expect(none.seal('', context)).toBe('');
  });

  it('refuses a value sealed under another key, one moved to another row, and a tampered one, with clear errors', async () => {
    const oldBox = new SecretBox(await deriveEncryptionKey(oldMaterial, 'PARLEY_ENCRYPTION_KEY'));
    const newBox = new SecretBox(await deriveEncryptionKey(newMaterial, 'PARLEY_ENCRYPTION_KEY'));
    const sealed = oldBox.seal(secret, context);
    expect(() => newBox.open(sealed, context)).toThrow(SecretKeyError);
    expect(() => newBox.open(sealed, context)).toThrow(/is encrypted with key [0-9a-f]{8}, but the configured keys are [0-9a-f]{8} \(PARLEY_ENCRYPTION_KEY\)/);
    expect(() => new SecretBox(undefined).open(sealed, context)).toThrow(/no encryption key is configured: set PARLEY_ENCRYPTION_KEY/);
    expect(() => oldBox.open(sealed, 'connections.api_key:c2')).toThrow(/does not decrypt with key/);
    const body = Buffer.from(sealed.split(':')[3]!, 'base64url');
    body[14]! ^= 1;
    const tampered = `${sealed.split(':').slice(0, 3).join(':')}:${body.toString('base64url')}`;
    expect(() => oldBox.open(tampered, context)).toThrow(/does not decrypt with key/);
    expect(() => oldBox.open(`${sealed.split(':').slice(0, 3).join(':')}:AAAA`, context)).toThrow(/damaged/);
  });

  it('reseals plain values and values under an earlier key, and leaves current ones alone', async () => {
    const oldKey = await deriveEncryptionKey(oldMaterial, 'PARLEY_PREVIOUS_ENCRYPTION_KEY');
    const newKey = await deriveEncryptionKey(newMaterial, 'PARLEY_ENCRYPTION_KEY');
    const underOld = new SecretBox(oldKey).seal(secret, context);
    const rotating = new SecretBox(newKey, [oldKey]);
    expect(rotating.open(underOld, context)).toBe(secret);
    const moved = rotating.reseal(underOld, context)!;
    expect(moved.startsWith(`enc:v1:${newKey.id}:`)).toBe(true);
    expect(new SecretBox(newKey).open(moved, context)).toBe(secret);
    expect(rotating.reseal(moved, context)).toBeUndefined();
    expect(isSealed(rotating.reseal(secret, context)!)).toBe(true);
    expect(rotating.reseal('', context)).toBeUndefined();
  });
});

describe('loadSecretBox', () => {
  it('uses PARLEY_ENCRYPTION_KEY, else a key derived from WEBUI_SECRET_KEY, else none', async () => {
    const explicit = await loadSecretBox({ PARLEY_ENCRYPTION_KEY: newMaterial, WEBUI_SECRET_KEY: oldMaterial, PARLEY_PREVIOUS_ENCRYPTION_KEY: undefined });
    expect(explicit.currentKeyId).toBe((await deriveEncryptionKey(newMaterial, '')).id);
    const fallback = await loadSecretBox({ PARLEY_ENCRYPTION_KEY: undefined, WEBUI_SECRET_KEY: oldMaterial, PARLEY_PREVIOUS_ENCRYPTION_KEY: undefined });
    expect(fallback.currentKeyId).toBe((await deriveEncryptionKey(oldMaterial, '')).id);
    // Values sealed under the WEBUI_SECRET_KEY fallback still open once PARLEY_ENCRYPTION_KEY is introduced.
    expect(explicit.open(fallback.seal(secret, context), context)).toBe(secret);
    const none = await loadSecretBox({ PARLEY_ENCRYPTION_KEY: undefined, WEBUI_SECRET_KEY: undefined, PARLEY_PREVIOUS_ENCRYPTION_KEY: undefined });
    expect(none.currentKeyId).toBeUndefined();
  });
});
