import fs from 'node:fs';
import path from 'node:path';
import type BetterSqlite from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type LogEvent } from 'kysely';
import pg from 'pg';
import type { Config } from '../../config.js';
import type { Database } from './schema.js';
import { failFastPool } from './fail-fast.js';
import { checkpointInBackground } from './sqlite-checkpointer.js';
import { SqliteDatabase } from './sqlite-driver.js';

// PostgreSQL returns BIGINT (our epoch-ms timestamps) as strings by default;
// they fit in a double for the next few hundred thousand years.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export type Dialect = 'sqlite' | 'postgres';

/** A database handle plus the operations the platform needs around it. */
export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /** Pool occupancy (PostgreSQL only). */
  poolStats?(): { inUse: number; idle: number; waiting: number };
  close(): Promise<void>;
}

/** Called after every query with its duration, for metrics. */
export type QueryObserver = (durationMs: number, isError: boolean) => void;

function logTo(observe: QueryObserver | undefined) {
  return observe ? (event: LogEvent) => observe(event.queryDurationMillis, event.level === 'error') : undefined;
}

/** Observes every query and tells `onSuccess` of each that succeeded. */
function logAndWatch(observe: QueryObserver | undefined, onSuccess: () => void) {
  return (event: LogEvent) => {
    if (event.level === 'query') onSuccess();
    observe?.(event.queryDurationMillis, event.level === 'error');
  };
}

/** Opens the configured database: SQLite (WAL) for the embedded default, pooled PostgreSQL at scale. */
export function connectDb(config: Config, observe?: QueryObserver): Db {
  return config.database.dialect === 'sqlite' ? openSqlite(config.database.file, observe) : openPostgres(config, config.database.url, observe);
}

function openSqlite(file: string, observe?: QueryObserver): Db {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  // NORMAL with WAL is durable across process crashes (kill -9); only an OS crash can lose the last commits.
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  const stopCheckpoints = checkpointInBackground(sqlite, file);
  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database: reusingStatements(sqlite) }), log: logTo(observe) });
  return {
    kysely,
    dialect: 'sqlite',
    ping: async () => {
      await sql`select 1`.execute(kysely);
    },
    close: async () => {
      await stopCheckpoints();
      await kysely.destroy();
    },
  };
}

/**
 * Kysely prepares every query afresh; preparing costs more than running most of ours.
 * Statements are kept by their SQL text (bounded: SQL with inlined literals varies).
 * Sharing one is safe because Kysely runs one query at a time on its single SQLite connection.
 */
function reusingStatements(sqlite: BetterSqlite.Database, limit = 500) {
  const statements = new Map<string, BetterSqlite.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(text: string) {
      let statement = statements.get(text);
      if (!statement) {
        statement = sqlite.prepare(text);
        if (statements.size >= limit) statements.delete(statements.keys().next().value!);
        statements.set(text, statement);
      }
      return statement;
    },
  };
}

function openPostgres(config: Config, url: string, observe?: QueryObserver): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max: config.DATABASE_POOL_SIZE,
    connectionTimeoutMillis: config.DATABASE_POOL_TIMEOUT * 1000,
    statement_timeout: config.DATABASE_STATEMENT_TIMEOUT * 1000,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its server (restart, failover) must not crash the process.
  pool.on('error', () => undefined);
  // pg-pool drops its listener while a client is checked out; a server restart then would emit an unhandled 'error'.
  pool.on('connect', (client) => client.on('error', () => undefined));
  // While the server is unreachable every query fails at once rather than waiting on its own
  // connection attempt; a probe on a connection of its own notices the server's return.
  const guarded = failFastPool<pg.PoolClient>(pool, () => probeServer(url, config.DATABASE_POOL_TIMEOUT * 1000));
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool: guarded }), log: logAndWatch(observe, guarded.markAvailable) });
  return {
    kysely,
    dialect: 'postgres',
    ping: async () => {
      await sql`select 1`.execute(kysely);
    },
    poolStats: () => ({ inUse: pool.totalCount - pool.idleCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: () => kysely.destroy(),
  };
}

/** Resolves when the server accepts a connection and answers a trivial query within `timeoutMs`. */
async function probeServer(url: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}
