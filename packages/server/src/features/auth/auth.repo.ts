import type { Kysely } from 'kysely';
import type { Database } from '../../platform/db/schema.js';

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

/** The user owning an API key hash (joins `users` to read, as `findUserBySession` does). */
export function findUserByApiKeyHash(db: Q, keyHash: string) {
  return db
    .selectFrom('api_keys')
    .innerJoin('users', 'users.id', 'api_keys.user_id')
    .select(['users.id', 'users.email', 'users.name', 'users.role'])
    .where('api_keys.key_hash', '=', keyHash)
    .executeTakeFirst();
}

/** Replaces a user's API key (one per user, as in Open WebUI). */
export async function replaceApiKey(db: Q, key: { id: string; user_id: string; key_hash: string; key_hint: string; created_at: number }): Promise<void> {
  await db.deleteFrom('api_keys').where('user_id', '=', key.user_id).execute();
  await db.insertInto('api_keys').values({ ...key, last_used_at: null }).execute();
}

/** A user's API key record (hash and hint only). */
export function findApiKeyByUser(db: Q, userId: string) {
  return db.selectFrom('api_keys').select(['id', 'key_hint', 'created_at']).where('user_id', '=', userId).executeTakeFirst();
}

/** Deletes a user's API key; returns whether one existed. */
export async function deleteApiKey(db: Q, userId: string): Promise<boolean> {
  const result = await db.deleteFrom('api_keys').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
