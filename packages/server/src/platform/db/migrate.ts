import { Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './connect.js';
import * as initial from './migrations/0001_initial.js';
import * as auditAndUsage from './migrations/0002_audit_and_usage.js';
import * as connectionHttp2 from './migrations/0003_connection_http2.js';
import * as generationTakeover from './migrations/0004_generation_takeover.js';
import * as apiKeys from './migrations/0005_api_keys.js';

/** Every migration, in order. Written expand-then-contract so two versions can share a database. */
const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_audit_and_usage': auditAndUsage,
  '0003_connection_http2': connectionHttp2,
  '0004_generation_takeover': generationTakeover,
  '0005_api_keys': apiKeys,
};

const provider: MigrationProvider = { getMigrations: async () => migrations };

// An arbitrary constant naming Parley's migration lock among PostgreSQL advisory locks.
const migrationLockId = 7_361_045_210;

/**
 * Brings the schema up to date. On PostgreSQL a session advisory lock makes any
 * number of instances starting at once take turns; the later ones find nothing to do.
 */
export async function migrateToLatest(db: Db): Promise<string[]> {
  if (db.dialect === 'sqlite') return runMigrator(db);
  return db.kysely.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(${migrationLockId})`.execute(connection);
    try {
      return await runMigrator(db, connection);
    } finally {
      await sql`select pg_advisory_unlock(${migrationLockId})`.execute(connection);
    }
  });
}

async function runMigrator(db: Db, connection = db.kysely): Promise<string[]> {
  const migrator = new Migrator({ db: connection, provider });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
