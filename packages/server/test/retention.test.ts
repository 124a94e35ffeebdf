import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAnalyticsService } from '../src/features/analytics/analytics.service.js';
import { createAuditService } from '../src/features/audit/audit.service.js';
import { startRetention, type RetentionOwners } from '../src/features/retention/retention.js';
import type { SharedState } from '../src/platform/shared/shared-state.js';
import { startTestApp, type TestApp } from './support/test-app.js';

const day = 86_400_000;

/** `state`, noting in `answers` each lease it grants or refuses, so a test knows when every contender has asked. */
function notingLeaseAnswers(state: SharedState, answers: boolean[]): SharedState {
  return new Proxy(state, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key);
      if (key === 'acquireLease') return (...args: Parameters<SharedState['acquireLease']>) => target.acquireLease(...args).then((isGranted) => (answers.push(isGranted), isGranted));
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

describe('retention of audit events and usage records', () => {
  let app: TestApp;
  // The owners of the two tables, over the app's platform: each prunes its own rows.
  let owners: RetentionOwners;
  beforeAll(async () => {
    app = await startTestApp();
    owners = { audit: createAuditService(app.parley.platform), analytics: createAnalyticsService(app.parley.platform) };
  });
  afterAll(async () => {
    await app.close();
  });

  const usageRow = (at: number) => ({
    id: randomUUID(), at, user_id: 'u', model: 'm', connection_id: null, prompt_tokens: 1, completion_tokens: 1, ttft_ms: null, duration_ms: 1, status: 'done' as const,
  });

  it('deletes only rows older than the cut-off, across several batches', async () => {
    const { kysely } = app.parley.platform.db;
    const now = Date.now();
    const old = Array.from({ length: 12_001 }, (_, i) => usageRow(now - 500 * day - i));
    const recent = Array.from({ length: 3 }, (_, i) => usageRow(now - i * day));
    for (let i = 0; i < old.length; i += 1000) await kysely.insertInto('usage_events').values(old.slice(i, i + 1000)).execute();
    await kysely.insertInto('usage_events').values(recent).execute();

    expect(await owners.analytics.pruneOlderThan(now - 400 * day)).toBe(old.length);
    const left = await kysely.selectFrom('usage_events').select('id').execute();
    expect(left.map((row) => row.id).sort()).toEqual(recent.map((row) => row.id).sort());
    expect(await owners.analytics.pruneOlderThan(now - 400 * day)).toBe(0);
  }, 60_000);

  it('runs on one instance of the cluster at a time, keeping what is younger than the configured days', async () => {
    const { platform } = app.parley;
    const { kysely } = platform.db;
    const now = Date.now();
    const old = usageRow(now - 401 * day);
    const young = usageRow(now - 399 * day);
    await kysely.insertInto('usage_events').values([old, young]).execute();
    const pruned: unknown[] = [];
    const log = { ...platform.log, info: (fields: unknown) => pruned.push(fields) } as typeof platform.log;
    const leaseAnswers: boolean[] = [];
    const shared = notingLeaseAnswers(platform.shared, leaseAnswers);
    // Two instances sharing state start their jobs together: the lease lets one of them prune.
    const stops = ['instance-a', 'instance-b'].map((id) => startRetention({ ...platform, log, shared }, owners, id, { firstRunMs: 10 }));
    try {
      // Both runs are over once each had its lease answer and the winner logged its pruning.
      await expect.poll(() => [leaseAnswers.length, pruned.length], { timeout: 10_000 }).toEqual([2, 1]);
      expect(leaseAnswers.sort()).toEqual([false, true]);
      expect(await kysely.selectFrom('usage_events').select('id').where('id', '=', old.id).executeTakeFirst()).toBeUndefined();
      expect(pruned).toEqual([expect.objectContaining({ table: 'usage_events', deleted: 1, days: 400 })]);
      expect(['instance-a', 'instance-b']).toContain(await platform.shared.leaseOwner('retention'));
      expect(await kysely.selectFrom('usage_events').select('id').where('id', '=', young.id).executeTakeFirst()).toEqual({ id: young.id });
    } finally {
      for (const stop of stops) stop();
    }
  });

  it('prunes the audit log by the same rule', async () => {
    const { kysely } = app.parley.platform.db;
    const now = Date.now();
    const event = (at: number) => ({
      id: randomUUID(), at, action: 'auth.signin.success', actor_id: null, actor_email: null, target_type: null, target_id: null, ip: null, request_id: null, details: '{}',
    });
    const before = await kysely.selectFrom('audit_events').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    await kysely.insertInto('audit_events').values([event(now - 400 * day), event(now - 366 * day), event(now - 364 * day)]).execute();
    expect(await owners.audit.pruneOlderThan(now - 365 * day)).toBe(2);
    const after = await kysely.selectFrom('audit_events').select(({ fn }) => fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(Number(before.n) + 1);
  });
});
