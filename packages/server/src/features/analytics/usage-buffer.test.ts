import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { connectDb, type Db } from '../../platform/db/connect.js';
import { DatabaseUnavailableError } from '../../platform/db/errors.js';
import { migrateToLatest } from '../../platform/db/migrate.js';
import type { UsageEventRow } from '../../platform/db/schema.js';
import type { Platform } from '../../platform/platform.js';
import { createMetrics } from '../../platform/telemetry/metrics.js';
import { createUsageBuffer } from './usage-buffer.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A migrated SQLite database the test can take away (queries then fail as while it is unreachable). */
async function database() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'parley-usage-'));
  const db = connectDb(loadConfig({ DATA_DIR: dir }));
  await migrateToLatest(db);
  cleanups.push(async () => {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const state = { isDown: false };
  const flaky: Db = {
    ...db,
    get kysely() {
      if (state.isDown) throw new DatabaseUnavailableError();
      return db.kysely;
    },
  };
  const metrics = createMetrics();
  const platform = { db: flaky, log: pino({ level: 'silent' }), metrics } as unknown as Platform;
  const stored = async () => (await db.kysely.selectFrom('usage_events').select('id').orderBy('at').execute()).map((row) => row.id);
  const counter = async (name: string) => (await metrics.registry.getSingleMetric(name)!.get()).values[0]?.value ?? 0;
  return { state, platform, stored, counter };
}

function record(id: string, at: number, model = 'm'): UsageEventRow {
  return { id, at, user_id: 'u', model, connection_id: null, prompt_tokens: 1, completion_tokens: 2, ttft_ms: null, duration_ms: 3, status: 'done' };
}

async function until(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the usage buffer', () => {
  it('writes records in batches, by size at once and otherwise after the delay', async () => {
    const { platform, stored } = await database();
    const buffer = createUsageBuffer(platform, { flushDelayMs: 50, batchSize: 3 });
    // A flush with nothing to write leaves the next one free to write.
    await buffer.flush();
    for (const id of ['a', 'b', 'c']) buffer.add(record(id, 1));
    await until(async () => (await stored()).length === 3);
    buffer.add(record('d', 2));
    await until(async () => (await stored()).includes('d'));
    await buffer.close();
  });

  it('keeps at most its bound while the database is away, dropping the oldest, and writes the rest on its return', async () => {
    const { state, platform, stored, counter } = await database();
    const buffer = createUsageBuffer(platform, { flushDelayMs: 10_000, retryDelayMs: 20, maxPending: 3 });
    state.isDown = true;
    for (const [i, id] of ['a', 'b', 'c', 'd', 'e'].entries()) buffer.add(record(id, i));
    await buffer.flush();
    expect(await counter('parley_usage_records_dropped_total')).toBe(2);
    expect(await counter('parley_usage_records_pending')).toBe(3);
    state.isDown = false;
    // No one asks: the retry writes them.
    await until(async () => (await stored()).length === 3);
    expect(await stored()).toEqual(['c', 'd', 'e']);
    expect(await counter('parley_usage_records_pending')).toBe(0);
    await buffer.close();
  });

  it('loses only the record the database refuses, and skips ids already stored', async () => {
    const { platform, stored, counter } = await database();
    const buffer = createUsageBuffer(platform, { flushDelayMs: 10_000 });
    buffer.add(record('a', 1));
    await buffer.flush();
    // 'a' again (a batch written twice) and a record no database accepts among good ones.
    const refused = { ...record('bad', 2), status: null } as unknown as UsageEventRow;
    for (const row of [record('a', 1), record('b', 2), refused, record('c', 3)]) buffer.add(row);
    await buffer.flush();
    expect((await stored()).sort()).toEqual(['a', 'b', 'c']);
    expect(await counter('parley_usage_records_dropped_total')).toBe(1);
    await buffer.close();
  });
});
