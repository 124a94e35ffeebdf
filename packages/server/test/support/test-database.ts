import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/** Which database the suite runs on: chosen by PARLEY_TEST_DB (sqlite by default). */
export const testDialect: 'sqlite' | 'postgres' = process.env.PARLEY_TEST_DB === 'postgres' ? 'postgres' : 'sqlite';

/** Administrative connection used to create and drop one database per test app. */
export const postgresAdminUrl = process.env.PARLEY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** A fresh, empty database for one test app, and how to throw it away. */
export interface TestDatabase {
  url: string;
  dataDir: string;
  drop(): Promise<void>;
}

/** Creates an isolated database: a temporary SQLite file, or a new PostgreSQL database. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'parley-test-'));
  if (testDialect === 'sqlite') {
    return {
      url: `sqlite://${path.join(dataDir, 'parley.db')}`,
      dataDir,
      drop: async () => fs.rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  const name = `parley_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: postgresAdminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    dataDir,
    drop: async () => {
      const client = new pg.Client({ connectionString: postgresAdminUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
