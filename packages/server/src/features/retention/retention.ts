import type { Db } from '../../platform/db/connect.js';
import type { Platform } from '../../platform/platform.js';

/** Tables whose rows age out, keyed by their `at` timestamp (epoch ms). */
type AgingTable = 'audit_events' | 'usage_events';

/** Rows deleted per statement: short statements keep locks short on a busy database. */
const BATCH = 5000;
const dayMs = 86_400_000;
const hourMs = 3_600_000;

/** Deletes rows of `table` older than `before`, in batches; answers how many went. */
export async function pruneOlderThan(db: Db, table: AgingTable, before: number): Promise<number> {
  let deleted = 0;
  for (;;) {
    const batch = db.kysely.selectFrom(table).select('id').where('at', '<', before).limit(BATCH);
    const result = await db.kysely.deleteFrom(table).where('id', 'in', batch).executeTakeFirst();
    const count = Number(result.numDeletedRows);
    deleted += count;
    if (count < BATCH) return deleted;
  }
}

/**
 * Keeps the audit log and usage records within AUDIT_LOG_RETENTION_DAYS and
 * USAGE_RETENTION_DAYS (0 keeps them forever). Runs hourly on whichever instance takes
 * the shared lease, so a cluster prunes once per hour, not once per instance.
 */
export function startRetention(platform: Platform, instanceId: string, { firstRunMs = 60_000 } = {}): () => void {
  const { config, db, shared, clock, log } = platform;
  const policies = [
    { table: 'audit_events' as const, days: config.AUDIT_LOG_RETENTION_DAYS },
    { table: 'usage_events' as const, days: config.USAGE_RETENTION_DAYS },
  ].filter((policy) => policy.days > 0);
  if (policies.length === 0) return () => undefined;

  async function run(): Promise<void> {
    if (!(await shared.acquireLease('retention', instanceId, hourMs - 60_000))) return;
    for (const { table, days } of policies) {
      const deleted = await pruneOlderThan(db, table, clock.now() - days * dayMs);
      if (deleted > 0) log.info({ table, deleted, days }, 'retention: deleted old rows');
    }
  }
  const tick = () => void run().catch((error: unknown) => log.warn({ err: error }, 'retention run failed; next try in an hour'));
  // A minute after start by default, so a rolling restart does not stampede; hourly after that.
  const first = setTimeout(tick, firstRunMs);
  const hourly = setInterval(tick, hourMs);
  first.unref();
  hourly.unref();
  return () => {
    clearTimeout(first);
    clearInterval(hourly);
  };
}
