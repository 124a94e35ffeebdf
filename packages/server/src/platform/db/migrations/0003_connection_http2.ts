import type { Kysely } from 'kysely';

/** Lets a connection talk HTTP/2 to its upstream (off for every existing one). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('connections')
    .addColumn('use_http2', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

/** Drops the column. */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('connections').dropColumn('use_http2').execute();
}
