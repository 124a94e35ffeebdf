import type { Kysely } from 'kysely';
import type { Database, NewUser, Role, UserRow } from '../../platform/db/schema.js';

type Q = Kysely<Database>;

/** Finds a user by email (stored lower-cased). */
export function findUserByEmail(db: Q, email: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}

/** Finds a user by id. */
export function findUserById(db: Q, id: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Inserts a user. */
export async function insertUser(db: Q, user: NewUser): Promise<void> {
  await db.insertInto('users').values(user).execute();
}

/** Sets a user's role. */
export async function setUserRole(db: Q, id: string, role: Role, now: number): Promise<void> {
  await db.updateTable('users').set({ role, updated_at: now }).where('id', '=', id).execute();
}

/** Claims the first-admin marker; true for exactly one caller ever, whatever the concurrency. */
export async function claimFirstAdmin(db: Q, userId: string, now: number): Promise<boolean> {
  const result = await db
    .insertInto('config')
    .values({ key: 'first_admin', value: userId, updated_at: now })
    .onConflict((oc) => oc.column('key').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

/** True once the first admin exists. */
export async function isAdminClaimed(db: Q): Promise<boolean> {
  const row = await db.selectFrom('config').select('key').where('key', '=', 'first_admin').executeTakeFirst();
  return row !== undefined;
}

/** Records a session so its token can be revoked. */
export async function insertSession(db: Q, session: { id: string; user_id: string; created_at: number; expires_at: number | null }): Promise<void> {
  await db.insertInto('sessions').values(session).execute();
}

/** The user behind a live session, in one query. */
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

/** Sets a user's password hash. */
export async function setPasswordHash(db: Q, userId: string, passwordHash: string, now: number): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash, updated_at: now }).where('id', '=', userId).execute();
}

/** The user owning an API key hash. */
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
