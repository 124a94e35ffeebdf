import type { Kysely } from 'kysely';
import { resealApiKeysIn } from './features/connections/connections.service.js';
import { resealSecretsIn } from './features/settings/settings.service.js';
import type { ResealCounts, SecretBox } from './platform/crypto/secret-box.js';
import type { Database } from './platform/db/schema.js';

/** What one pass over the secrets at rest did, per owner. */
export interface ResealReport {
  connections: ResealCounts;
  config: ResealCounts;
}

/**
 * Moves every secret at rest (connection API keys, the stored signing secret) under the current encryption key in
 * one transaction: plain values are encrypted, values under an earlier key re-encrypted, the rest checked to open.
 * Throws SecretKeyError (and changes nothing) when any value cannot be decrypted. Idempotent.
 */
export function resealStoredSecrets(db: Kysely<Database>, secrets: SecretBox, now: number): Promise<ResealReport> {
  return db.transaction().execute(async (trx) => ({
    connections: await resealApiKeysIn(trx, secrets),
    config: await resealSecretsIn(trx, secrets, now),
  }));
}
