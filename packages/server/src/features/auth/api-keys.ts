import { randomUUID } from 'node:crypto';
import type { AuthUser } from '../../http/access.js';
import type { AuditContext } from '../../http/audit-context.js';
import { httpErrors } from '../../http/errors.js';
import { apiKeyHint, generateApiKey, hashApiKey } from '../../platform/crypto/api-keys.js';
import type { Platform } from '../../platform/platform.js';
import type { AuditService } from '../audit/audit.service.js';
import * as repo from './auth.repo.js';
import type { CredentialCache } from './credential-cache.js';

/** Keys one user may hold, so one account cannot fill the table. */
export const MAX_API_KEYS_PER_USER = 50;

/** The name given to the key Open WebUI's single-key endpoints manage. */
const defaultKeyName = 'Default';

/**
 * A key can read and revoke keys but not make new ones: a leaked key must not be able to mint
 * others that outlive its own revocation.
 */
function refuseKeyMadeByKey(user: AuthUser): void {
  if (user.sessionId === null) throw httpErrors.forbidden('An API key cannot create API keys; sign in to create one');
}

/**
 * The caller's API keys: Open WebUI's one default key and any number of named ones (up to a cap).
 * A key revoked or replaced here stops working on this instance at once (`credentials` forgets it),
 * on others within AUTH_CACHE_TTL.
 */
export function createApiKeyOperations({ db, clock }: Pick<Platform, 'db' | 'clock'>, audit: AuditService, credentials: CredentialCache) {
  /** Stores a new key for `user` (replacing the default one when `isDefault`); returns the whole key, shown only now. */
  async function issue(user: AuthUser, input: { name: string; expiresAt: number | null; isDefault: boolean }, context: AuditContext) {
    const key = generateApiKey();
    const record = {
      id: randomUUID(),
      name: input.name,
      key_hint: apiKeyHint(key),
      is_default: input.isDefault ? 1 : 0,
      created_at: clock.now(),
      last_used_at: null,
      expires_at: input.expiresAt,
    };
    await db.kysely.transaction().execute(async (trx) => {
      if (input.isDefault) await repo.deleteDefaultApiKey(trx, user.id);
      await repo.insertApiKey(trx, { ...record, user_id: user.id, key_hash: hashApiKey(key) });
      await audit.recordIn(trx, context, {
        action: 'auth.api_key.created',
        target: { type: 'user', id: user.id },
        // The default key is Open WebUI's one key: its id says all; a named key adds its name and expiry.
        details: input.isDefault ? { key_id: record.id } : { key_id: record.id, name: record.name, expires_at: record.expires_at },
      });
    });
    // The default key it replaced stops working here at once (the cache keeps keys by hash, so the user's are all forgotten).
    if (input.isDefault) credentials.evictUser(user.id);
    return { key, record };
  }

  return {
    /** Creates (or replaces) the caller's default API key; the full key is returned only now. */
    async createApiKey(user: AuthUser, context: AuditContext): Promise<string> {
      refuseKeyMadeByKey(user);
      return (await issue(user, { name: defaultKeyName, expiresAt: null, isDefault: true }, context)).key;
    },

    /** The caller's default API key, masked. */
    async getApiKey(user: AuthUser) {
      const row = await repo.findDefaultApiKey(db.kysely, user.id);
      if (!row) throw httpErrors.notFound('API key');
      return row;
    },

    /** Revokes the caller's default API key (named keys stay). */
    async deleteApiKey(user: AuthUser, context: AuditContext): Promise<void> {
      if (!(await repo.deleteDefaultApiKey(db.kysely, user.id))) throw httpErrors.notFound('API key');
      credentials.evictUser(user.id);
      await audit.record(context, { action: 'auth.api_key.revoked', target: { type: 'user', id: user.id } });
    },

    /** Every key of the caller (default and named), masked, oldest first. */
    listApiKeys: (user: AuthUser) => repo.listApiKeys(db.kysely, user.id),

    /** Creates a named key, optionally expiring at `expiresAt` (epoch ms, in the future); the whole key is returned only now. */
    async createNamedApiKey(user: AuthUser, input: { name: string; expiresAt: number | null }, context: AuditContext) {
      refuseKeyMadeByKey(user);
      if (input.expiresAt !== null && input.expiresAt <= clock.now()) throw httpErrors.badRequest('expires_at must be in the future');
      if ((await repo.countApiKeys(db.kysely, user.id)) >= MAX_API_KEYS_PER_USER) {
        throw httpErrors.badRequest(`You have ${MAX_API_KEYS_PER_USER} API keys, the most allowed; delete one first`);
      }
      return issue(user, { ...input, isDefault: false }, context);
    },

    /** Revokes one of the caller's keys; 404 when it is not theirs. */
    async deleteNamedApiKey(user: AuthUser, keyId: string, context: AuditContext): Promise<void> {
      if (!(await repo.deleteApiKeyById(db.kysely, user.id, keyId))) throw httpErrors.notFound('API key');
      credentials.evictUser(user.id);
      await audit.record(context, { action: 'auth.api_key.revoked', target: { type: 'user', id: user.id }, details: { key_id: keyId } });
    },
  };
}
