import type { Kysely, Updateable } from 'kysely';
import type { ConnectionRow, ConnectionsTable, Database } from '../../platform/db/schema.js';

type Q = Kysely<Database>;

/** Every connection in display order. */
export function listConnections(db: Q): Promise<ConnectionRow[]> {
  return db.selectFrom('connections').selectAll().orderBy('position').orderBy('created_at').orderBy('id').execute();
}

/** Enabled connections in display order. */
export function listEnabledConnections(db: Q): Promise<ConnectionRow[]> {
  return db
    .selectFrom('connections')
    .selectAll()
    .where('is_enabled', '=', 1)
    .orderBy('position')
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

/** One connection by id. */
export function findConnection(db: Q, id: string): Promise<ConnectionRow | undefined> {
  return db.selectFrom('connections').selectAll().where('id', '=', id).executeTakeFirst();
}

/** How many connections exist. */
export async function countConnections(db: Q): Promise<number> {
  const row = await db.selectFrom('connections').select((eb) => eb.fn.countAll().as('count')).executeTakeFirstOrThrow();
  return Number(row.count);
}

/** The position after the last connection. */
export async function nextPosition(db: Q): Promise<number> {
  const row = await db.selectFrom('connections').select((eb) => eb.fn.max('position').as('last')).executeTakeFirst();
  return row?.last === null || row?.last === undefined ? 0 : Number(row.last) + 1;
}

/** Inserts a connection. */
export async function insertConnection(db: Q, row: ConnectionRow): Promise<void> {
  await db.insertInto('connections').values(row).execute();
}

/** Applies a change to a connection; false when it does not exist. */
export async function updateConnection(db: Q, id: string, patch: Updateable<ConnectionsTable>): Promise<boolean> {
  const result = await db.updateTable('connections').set(patch).where('id', '=', id).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Deletes a connection; false when it did not exist. */
export async function deleteConnection(db: Q, id: string): Promise<boolean> {
  const result = await db.deleteFrom('connections').where('id', '=', id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Every connection's id and stored (possibly encrypted) API key, for re-encryption passes. */
export function listStoredApiKeys(db: Q): Promise<Array<Pick<ConnectionRow, 'id' | 'api_key'>>> {
  return db.selectFrom('connections').select(['id', 'api_key']).orderBy('id').execute();
}

/** Replaces a stored API key only if it still holds `expected`; false when another writer got there first. */
export async function replaceStoredApiKey(db: Q, id: string, expected: string, next: string): Promise<boolean> {
  const result = await db.updateTable('connections').set({ api_key: next }).where('id', '=', id).where('api_key', '=', expected).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
