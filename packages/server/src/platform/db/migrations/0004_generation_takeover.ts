import { sql, type Kysely } from 'kysely';

/**
 * How a takeover finishes a connection's answers (`auto`: by what its upstream is known to do), and an
 * index of the answers still being written, which is all the sweeper reads: a partial index stays as
 * small as the answers in flight, however many finished messages the table holds.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('connections')
    .addColumn('takeover_mode', 'text', (c) => c.notNull().defaultTo('auto'))
    .execute();
  await db.schema
    .createIndex('messages_streaming_created')
    .on('messages')
    .columns(['created_at', 'id'])
    .where(sql.ref('status'), '=', sql.lit('streaming'))
    .execute();
}

/** Drops the index and the column. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('messages_streaming_created').ifExists().execute();
  await db.schema.alterTable('connections').dropColumn('takeover_mode').execute();
}
