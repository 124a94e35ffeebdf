import { createHash, randomBytes } from 'node:crypto';

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
