import type { Kysely } from 'kysely';
import type { Database } from './schema.js';

/** Tables whose rows age out by an `at` time (epoch ms) and are keyed by a string `id`. */
export type AgingTable = {
  [T in keyof Database]: Database[T] extends { id: string; at: number } ? T : never;
}[keyof Database];

/** Rows deleted per statement: short statements keep locks short on a busy database. */
const BATCH = 5000;

/**
 * Deletes the rows of `table` older than `before`, in batches; answers how many went.
 * Owning repos call it for their own table, so the batching is written once.
 */
export async function deleteOlderThanInBatches(db: Kysely<Database>, table: AgingTable, before: number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const batch = db.selectFrom(table).select('id').where('at', '<', before).limit(BATCH);
    const result = await db.deleteFrom(table).where('id', 'in', batch).executeTakeFirst();
    const count = Number(result.numDeletedRows);
    deleted += count;
    if (count < BATCH) return deleted;
  }
}
