import { sql, type Kysely } from 'kysely';

/**
 * Several named API keys per user, each with an optional expiry. The key Open WebUI's single-key
 * endpoints manage is the user's default key (`is_default` 1); keys made before are those.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('api_keys').addColumn('name', 'text', (c) => c.notNull().defaultTo('')).execute();
  await db.schema.alterTable('api_keys').addColumn('is_default', 'integer', (c) => c.notNull().defaultTo(0)).execute();
  await db.schema.alterTable('api_keys').addColumn('expires_at', 'bigint').execute();
  await sql`update api_keys set is_default = 1, name = 'Default'`.execute(db);
}

/** Drops the columns (named keys become indistinguishable from the default one). */
export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('api_keys').dropColumn('expires_at').execute();
  await db.schema.alterTable('api_keys').dropColumn('is_default').execute();
  await db.schema.alterTable('api_keys').dropColumn('name').execute();
}
