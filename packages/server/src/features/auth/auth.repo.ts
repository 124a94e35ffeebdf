import type { Kysely } from 'kysely';
import type { ApiKeysTable, Database } from '../../platform/db/schema.js';

type Q = Kysely<Database>;

/** Records a session so its token can be revoked. */
export async function insertSession(db: Q, session: { id: string; user_id: string; created_at: number; expires_at: number | null }): Promise<void> {
  await db.insertInto('sessions').values(session).execute();
}

/**
 * The user behind a live session, in one query. It joins `users` (owned by the users feature)
 * for reading only: this runs on every request, and one round trip instead of two matters there.
 */
export function findUserBySession(db: Q, sessionId: string, userId: string, now: number) {
  return db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select(['users.id', 'users.email', 'users.name', 'users.role'])
    .where('sessions.id', '=', sessionId)
    .where('sessions.user_id', '=', userId)
    .where((eb) => eb.or([eb('sessions.expires_at', 'is', null), eb('sessions.expires_at', '>', now)]))
    .executeTakeFirst();
}

/** Revokes one session. */
export async function deleteSession(db: Q, sessionId: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', sessionId).execute();
}

/** Revokes every session of a user except `keep`. */
export async function deleteOtherSessions(db: Q, userId: string, keep: string | null): Promise<void> {
  let query = db.deleteFrom('sessions').where('user_id', '=', userId);
  if (keep) query = query.where('id', '!=', keep);
  await query.execute();
}

/**
 * The user owning an unexpired API key, with the key's id, expiry and last use (joins `users` to
 * read, as `findUserBySession` does).
 */
export function findUserByApiKeyHash(db: Q, keyHash: string, now: number) {
  return db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select(['users.id', 'users.email', 'users.name', 'users.role', 'api_keys.id as key_id', 'api_keys.expires_at', 'api_keys.last_used_at'])
    .where('api_keys.key_hash', '=', keyHash)
    .where((eb) => eb.or([eb('api_keys.expires_at', 'is', null), eb('api_keys.expires_at', '>', now)]))
    .executeTakeFirst();
}

/** Records a key's use at `now`, unless one was recorded since `since` (another instance may have). */
export async function markApiKeyUsed(db: Q, keyId: string, now: number, since: number): Promise<void> {
  await db
    .updateTable('api_keys')
    .set({ last_used_at: now })
    .where('id', '=', keyId)
    .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', since)]))
    .execute();
}

/** An API key as stored, without its hash. */
export type ApiKeyRecord = Omit<ApiKeysTable, 'key_hash' | 'user_id'>;

const keyColumns = ['id', 'name', 'key_hint', 'is_default', 'created_at', 'last_used_at', 'expires_at'] as const;

/** Stores a new API key (its hash and hint only). */
export async function insertApiKey(db: Q, key: ApiKeysTable): Promise<void> {
  await db.insertInto('api_keys').values(key).execute();
}

/** A user's keys, oldest first. */
export function listApiKeys(db: Q, userId: string): Promise<ApiKeyRecord[]> {
  return db.selectFrom('api_keys').select(keyColumns).where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();
}

/** How many keys a user has. */
export async function countApiKeys(db: Q, userId: string): Promise<number> {
  const row = await db.selectFrom('api_keys').select((eb) => eb.fn.countAll<number | string>().as('n')).where('user_id', '=', userId).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A user's default key (the one Open WebUI's single-key endpoints manage), if any. */
export function findDefaultApiKey(db: Q, userId: string): Promise<ApiKeyRecord | undefined> {
  return db.selectFrom('api_keys').select(keyColumns).where('user_id', '=', userId).where('is_default', '=', 1).orderBy('created_at', 'desc').executeTakeFirst();
}

/** Deletes a user's default key; returns whether one existed. */
export async function deleteDefaultApiKey(db: Q, userId: string): Promise<boolean> {
  const result = await db.deleteFrom('api_keys').where('user_id', '=', userId).where('is_default', '=', 1).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Deletes one of a user's keys by id; returns whether it existed (and was theirs). */
export async function deleteApiKeyById(db: Q, userId: string, keyId: string): Promise<boolean> {
  const result = await db.deleteFrom('api_keys').where('user_id', '=', userId).where('id', '=', keyId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Deletes every key of a user; returns how many there were. */
export async function deleteApiKeys(db: Q, userId: string): Promise<number> {
  const result = await db.deleteFrom('api_keys').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}
