import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import pg from 'pg';
import { createTestDatabase, postgresAdminUrl, testDialect } from './support/test-database.js';
import { signUp, type TestUser } from './support/factories.js';
import { eventually } from './support/streams.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { connectDb } from '../src/platform/db/connect.js';
import { migrateToLatest } from '../src/platform/db/migrate.js';
import { loadConfig } from '../src/config.js';
import type { ErrorBody } from './support/wire.js';

// Outages and concurrent start-up are PostgreSQL matters: SQLite is a file in the process.
describe.skipIf(testDialect !== 'postgres')('PostgreSQL outages and concurrent start-up', () => {
  let proxy: TcpProxy;
  let app: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    app = await startTestApp(
      { DATABASE_POOL_TIMEOUT: '1' },
      { rewriteDatabaseUrl: (url) => url.replace('127.0.0.1:5432', `127.0.0.1:${proxy.port}`) },
    );
    user = await signUp(app);
  });
  afterAll(async () => {
    await proxy.restore().catch(() => undefined);
    await app.close();
    await proxy.close();
  });

  it('answers 503 fast while the database is gone, reports not ready, stays alive, and recovers by itself', async () => {
    await proxy.cut();
    const started = Date.now();
    const during = await app.request<ErrorBody>('GET', '/api/v1/auths/', { token: user.token });
    expect(during.status).toBe(503);
    expect(during.body.code).toBe('unavailable');
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await app.request('GET', '/ready')).status).toBe(503);
    expect((await app.request('GET', '/health')).status).toBe(200);

    await proxy.restore();
    await eventually(async () => ((await app.request('GET', '/api/v1/auths/', { token: user.token })).status === 200 ? true : undefined), 10_000);
    expect((await app.request('GET', '/ready')).status).toBe(200);
  });

  it('survives the server ending a connection that is checked out inside a transaction', async () => {
    const db = app.parley.platform.db;
    const uncaught: unknown[] = [];
    const record = (error: unknown) => uncaught.push(error);
    process.on('uncaughtException', record);
    try {
      const outcome = await db.kysely
        .transaction()
        .execute(async (trx) => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
          const killer = new pg.Client({ connectionString: postgresAdminUrl });
          await killer.connect();
          await killer.query('select pg_terminate_backend($1)', [rows[0]!.pid]);
          await killer.end();
          await new Promise((resolve) => setTimeout(resolve, 200));
          await sql`select 1`.execute(trx);
        })
        .then(() => 'committed', () => 'failed');
      expect(outcome).toBe('failed');
      expect(uncaught).toEqual([]);
      expect((await app.request('GET', '/api/v1/auths/', { token: user.token })).status).toBe(200);
    } finally {
      process.off('uncaughtException', record);
    }
  });

  it('lets ten instances migrate one fresh database at once', async () => {
    const database = await createTestDatabase();
    const dbs = Array.from({ length: 10 }, () => connectDb(loadConfig({ DATABASE_URL: database.url, DATA_DIR: database.dataDir })));
    try {
      const applied = await Promise.all(dbs.map((db) => migrateToLatest(db)));
      expect(applied.flat()).toEqual(['0001_initial', '0002_audit_and_usage', '0003_connection_http2', '0004_generation_takeover', '0005_api_keys']);
      const tables = await dbs[0]!.kysely.selectFrom('users').select('id').execute();
      expect(tables).toEqual([]);
    } finally {
      await Promise.all(dbs.map((db) => db.close()));
      await database.drop();
    }
  });
});
