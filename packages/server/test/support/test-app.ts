import type { AddressInfo } from 'node:net';
import type { DestinationStream } from 'pino';
import { buildApp, type ParleyApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/platform/telemetry/logger.js';
import type { Clock } from '../../src/platform/platform.js';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, testDialect, type TestDatabase } from './test-database.js';

/** The scaled matrix (PostgreSQL) also puts shared state in the real Redis. */
export const testRedisUrl = process.env.PARLEY_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A JSON response as tests see it. */
export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** A running Parley server on a random loopback port with its own empty database. */
export interface TestApp {
  url: string;
  parley: ParleyApp;
  /** The environment it was started with; pass it to `startTestApp({}, { sameClusterAs })` for a second instance. */
  env: Record<string, string>;
  /** Sends a request; `body` objects are sent as JSON, strings as-is. */
  request<T = unknown>(method: string, path: string, options?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<ApiResponse<T>>;
  close(): Promise<void>;
}

/**
 * Starts a server; `env` adds or overrides environment variables. With
 * `sameClusterAs`, the new instance shares the other's database, data folder
 * and Redis prefix, as a second instance behind a load balancer would.
 * The server logs through the product's logger at `LOG_LEVEL` (silent unless
 * PARLEY_TEST_LOG or `env` says otherwise), to stdout or to `logTo`. `clock` replaces the app's clock.
 */
export async function startTestApp(
  env: Record<string, string> = {},
  options: { webRoot?: string; rewriteDatabaseUrl?: (url: string) => string; sameClusterAs?: TestApp; logTo?: DestinationStream; clock?: Clock } = {},
): Promise<TestApp> {
  const database: TestDatabase | undefined = options.sameClusterAs ? undefined : await createTestDatabase();
  const baseEnv: Record<string, string> = options.sameClusterAs
    ? options.sameClusterAs.env
    : {
        DATA_DIR: database!.dataDir,
        DATABASE_URL: options.rewriteDatabaseUrl ? options.rewriteDatabaseUrl(database!.url) : database!.url,
        PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: process.env.PARLEY_TEST_LOG ?? 'silent',
        // Every test signs its users up from one address; the tests of the limit set their own.
        SIGNUP_RATE_LIMIT_PER_IP: '0',
        ...(testDialect === 'postgres' ? { REDIS_URL: testRedisUrl, REDIS_KEY_PREFIX: `parley-test:${randomUUID()}:` } : {}),
      };
  const fullEnv = { ...baseEnv, ...env };
  const config = loadConfig(fullEnv);
  const logger = createLogger(config, options.logTo);
  const parley = await buildApp(config, { logger, webRoot: options.webRoot ?? '/nonexistent-web-dist', ...(options.clock && { clock: options.clock }) });
  await parley.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = parley.app.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  let isClosed = false;

  return {
    url,
    parley,
    env: fullEnv,
    async request<T>(method: string, path: string, options: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<ApiResponse<T>> {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      let body: string | undefined;
      if (typeof options.body === 'string') body = options.body;
      else if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(url + path, { method, headers, body });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // Not JSON: keep the text.
      }
      // What the caller says it expects: the type is the test's claim, the assertions check it.
      return { status: response.status, headers: response.headers, body: parsed as T };
    },
    async close() {
      if (isClosed) return;
      isClosed = true;
      await parley.close();
      await database?.drop();
    },
  };
}
