import type { Platform } from '../../platform/platform.js';
import type { AnalyticsService } from '../analytics/analytics.service.js';
import type { AuditService } from '../audit/audit.service.js';

const dayMs = 86_400_000;
const hourMs = 3_600_000;

/** The owners of the aging tables: each deletes its own old rows. */
export interface RetentionOwners {
  audit: Pick<AuditService, 'pruneOlderThan'>;
  analytics: Pick<AnalyticsService, 'pruneOlderThan'>;
}

/**
 * Keeps the audit log and usage records within AUDIT_LOG_RETENTION_DAYS and
 * USAGE_RETENTION_DAYS (0 keeps them forever). Runs hourly on whichever instance takes
 * the shared lease, so a cluster prunes once per hour, not once per instance.
 */
export function startRetention(platform: Platform, owners: RetentionOwners, instanceId: string, { firstRunMs = 60_000 } = {}): () => void {
  const { config, shared, clock, log } = platform;
  const policies = [
    { table: 'audit_events', days: config.AUDIT_LOG_RETENTION_DAYS, prune: owners.audit.pruneOlderThan },
    { table: 'usage_events', days: config.USAGE_RETENTION_DAYS, prune: owners.analytics.pruneOlderThan },
  ].filter((policy) => policy.days > 0);
  if (policies.length === 0) return () => undefined;

  async function run(): Promise<void> {
    if (!(await shared.acquireLease('retention', instanceId, hourMs - 60_000))) return;
    for (const { table, days, prune } of policies) {
      const deleted = await prune(clock.now() - days * dayMs);
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
