import { createHash, randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

// OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane.
// `algorithm: 2` is Algorithm.Argon2id (a const enum, which isolated modules cannot import).
const argonOptions = { algorithm: 2 as const, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** Hashes a password with argon2id. */
export function hashPassword(password: string): Promise<string> {
  return hash(password, argonOptions);
}

// Verified against when the account does not exist, so a miss costs as much as a wrong password.
let decoyHash: Promise<string> | undefined;

/** Checks a password against its hash; with no hash, spends the same time and fails. */
export async function verifyPassword(hashed: string | undefined, password: string): Promise<boolean> {
  if (!hashed) {
    decoyHash ??= hashPassword(randomBytes(16).toString('hex'));
    await verify(await decoyHash, password).catch(() => false);
    return false;
  }
  return verify(hashed, password).catch(() => false);
}

/** A new API key: `sk-` and 48 hex characters (192 random bits). */
export function generateApiKey(): string {
  return `sk-${randomBytes(24).toString('hex')}`;
}

/** API keys carry 192 random bits, so a fast hash is enough to store them safely. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

/** What may be shown of a key after creation: its start and end. */
export function apiKeyHint(key: string): string {
  return `${key.slice(0, 6)}…${key.slice(-4)}`;
}
