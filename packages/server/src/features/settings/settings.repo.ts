import type { Kysely } from 'kysely';
import type { Database } from '../../platform/db/schema.js';

type Q = Kysely<Database>;

/** The value stored under `key` in the `config` table, if any. */
export async function readValue(db: Q, key: string): Promise<string | undefined> {
  const row = await db.selectFrom('config').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value;
}

/** Stores `value` under `key`, replacing what was there. */
export async function putValue(db: Q, key: string, value: string, now: number): Promise<void> {
  await db
    .insertInto('config')
    .values({ key, value, updated_at: now })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: now }))
    .execute();
}

/** Stores `value` under `key` unless the key exists; true for exactly one caller ever, whatever the concurrency. */
export async function claimKey(db: Q, key: string, value: string, now: number): Promise<boolean> {
  const result = await db
    .insertInto('config')
    .values({ key, value, updated_at: now })
    .onConflict((oc) => oc.column('key').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) === 1;
}

/** Replaces the value under `key` only if it still is `expected`; false when another writer got there first. */
export async function replaceValue(db: Q, key: string, expected: string, next: string, now: number): Promise<boolean> {
  const result = await db.updateTable('config').set({ value: next, updated_at: now }).where('key', '=', key).where('value', '=', expected).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
