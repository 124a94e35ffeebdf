import { isDatabaseUnavailable } from '../../platform/db/errors.js';
import type { UsageEventRow } from '../../platform/db/schema.js';
import type { Platform } from '../../platform/platform.js';
import * as repo from './analytics.repo.js';

/** How the buffer writes: how long a record may wait, how many are kept at most, how many go per insert. */
export interface UsageBufferOptions {
  flushDelayMs: number;
  retryDelayMs: number;
  maxPending: number;
  batchSize: number;
}

const defaults: UsageBufferOptions = { flushDelayMs: 1000, retryDelayMs: 250, maxPending: 10_000, batchSize: 500 };

/**
 * Usage records kept in memory and written in batches: an answer costs no query of its own, and
 * records made while the database is away wait for it (at most `maxPending`, the oldest dropped
 * and counted beyond that) and are written within `retryDelayMs` of its return. A record waits
 * at most `flushDelayMs` otherwise. Inserts ignore ids already stored, so a batch whose
 * connection broke after its commit can be written again.
 */
export function createUsageBuffer(platform: Platform, options: Partial<UsageBufferOptions> = {}) {
  const { db, log, metrics } = platform;
  const { flushDelayMs, retryDelayMs, maxPending, batchSize } = { ...defaults, ...options };
  let pending: UsageEventRow[] = [];
  let timer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> | undefined;
  // While the database is away: the first failure is logged, and the recovery once.
  let isWaiting = false;
  let droppedWhileWaiting = 0;

  function schedule(delayMs: number): void {
    if (timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush();
    }, delayMs);
    timer.unref();
  }

  function dropOldest(): void {
    const excess = pending.length - maxPending;
    if (excess <= 0) return;
    pending.splice(0, excess);
    metrics.usageDropped.inc(excess);
    if (droppedWhileWaiting === 0) log.error({ maxPending }, 'usage records are being dropped: too many waiting for the database');
    droppedWhileWaiting += excess;
  }

  /**
   * Inserts one by one after a batch was refused for its content, so only the rows at fault are
   * lost; if the database goes away meanwhile the whole batch is kept (rows written are skipped later).
   */
  async function writeEach(batch: UsageEventRow[], batchError: unknown): Promise<void> {
    for (const row of batch) {
      try {
        await repo.insertUsage(db.kysely, [row]);
      } catch (error) {
        if (isDatabaseUnavailable(error)) throw error;
        metrics.usageDropped.inc();
        log.error({ err: error, batchError, userId: row.user_id, model: row.model }, 'usage could not be recorded');
      }
    }
  }

  /** Writes the oldest batch; false when the database is unavailable (the batch is kept). */
  async function writeBatch(): Promise<boolean> {
    const batch = pending.splice(0, batchSize);
    try {
      try {
        await repo.insertUsage(db.kysely, batch);
      } catch (error) {
        if (isDatabaseUnavailable(error) || batch.length === 1) throw error;
        await writeEach(batch, error);
      }
    } catch (error) {
      if (!isDatabaseUnavailable(error)) {
        metrics.usageDropped.inc(batch.length);
        log.error({ err: error, records: batch.length }, 'usage could not be recorded');
        return true;
      }
      pending = batch.concat(pending);
      dropOldest();
      if (!isWaiting) log.warn({ err: error, pending: pending.length }, 'usage records are kept in memory until the database returns');
      isWaiting = true;
      return false;
    } finally {
      metrics.usagePending.set(pending.length);
    }
    if (isWaiting && pending.length === 0) {
      log.info({ dropped: droppedWhileWaiting }, 'usage records kept during the database outage are written');
      isWaiting = false;
      droppedWhileWaiting = 0;
    }
    return true;
  }

  /** Writes batches until nothing is pending or the database refuses (then a retry is planned). */
  async function writeAll(): Promise<void> {
    while (pending.length > 0) {
      if (!(await writeBatch())) {
        // Sooner than a flush already planned: the records wait for the database's return only.
        clearTimeout(timer);
        timer = undefined;
        schedule(retryDelayMs);
        return;
      }
    }
  }

  /** Writes everything pending, one flush at a time; resolves (never rejects) once done or the database refused. */
  function flush(): Promise<void> {
    // `finally` runs on a later tick, after `flushing` is set, even when there is nothing to write.
    flushing ??= writeAll().finally(() => {
      flushing = undefined;
    });
    return flushing;
  }

  return {
    /** Keeps a record to be written with the next batch. */
    add(row: UsageEventRow): void {
      pending.push(row);
      dropOldest();
      metrics.usagePending.set(pending.length);
      if (pending.length >= batchSize) void flush();
      else schedule(flushDelayMs);
    },

    flush,

    /** Writes what is pending (if the database takes it) and stops the timer. */
    async close(): Promise<void> {
      clearTimeout(timer);
      await flush();
      clearTimeout(timer);
      timer = undefined;
      if (pending.length > 0) {
        metrics.usageDropped.inc(pending.length);
        log.error({ records: pending.length }, 'usage records lost at shutdown: the database did not take them');
        pending = [];
      }
    },
  };
}

export type UsageBuffer = ReturnType<typeof createUsageBuffer>;
