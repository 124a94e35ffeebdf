import { sql, type Kysely } from 'kysely';
import { deleteOlderThanInBatches } from '../../platform/db/batched-delete.js';
import type { Database, UsageEventRow } from '../../platform/db/schema.js';

type Q = Kysely<Database>;

/** A time range in epoch ms: `from` inclusive, `to` exclusive. */
export interface Range {
  from: number;
  to: number;
}

// The UTC day of an epoch-ms time: integer division, the same on SQLite and PostgreSQL (bigint / integer).
const dayOf = sql<number>`${sql.ref('usage_events.at')} / 86400000`;

function inRange(db: Q, range: Range) {
  return db.selectFrom('usage_events').where('usage_events.at', '>=', range.from).where('usage_events.at', '<', range.to);
}

/** PostgreSQL answers sums and counts as bigint or numeric; SQLite answers null for the sum of nothing. */
function count(value: unknown): number {
  return value === null || value === undefined ? 0 : Number(value);
}

/** Message and token totals of one group. */
export interface UsageTotals {
  messages: number;
  prompt_tokens: number;
  completion_tokens: number;
}

function totalsOf(row: { messages: unknown; prompt_tokens: unknown; completion_tokens: unknown }): UsageTotals {
  return { messages: count(row.messages), prompt_tokens: count(row.prompt_tokens), completion_tokens: count(row.completion_tokens) };
}

/** Records answers; a record whose id is already stored is skipped, so writing a batch again is harmless. */
export async function insertUsage(db: Q, rows: UsageEventRow[]): Promise<void> {
  await db
    .insertInto('usage_events')
    .values(rows)
    .onConflict((conflict) => conflict.column('id').doNothing())
    .execute();
}

/** Totals over the range, with distinct users, failed answers and the mean time to first token. */
export async function summary(db: Q, range: Range) {
  const row = await inRange(db, range)
    .select((eb) => [
      eb.fn.countAll().as('messages'),
      eb.fn.sum('prompt_tokens').as('prompt_tokens'),
      eb.fn.sum('completion_tokens').as('completion_tokens'),
      eb.fn.count('user_id').distinct().as('active_users'),
      eb.fn.sum(sql<number>`case when status = 'error' then 1 else 0 end`).as('errors'),
      eb.fn.avg('ttft_ms').as('avg_ttft_ms'),
    ])
    .executeTakeFirstOrThrow();
  return {
    ...totalsOf(row),
    active_users: count(row.active_users),
    errors: count(row.errors),
    avg_ttft_ms: row.avg_ttft_ms === null ? null : Math.round(Number(row.avg_ttft_ms)),
  };
}

/** Totals per user (with their email and name while the account exists), heaviest first. */
export async function byUser(db: Q, range: Range, limit: number) {
  const rows = await inRange(db, range)
    .leftJoin('users', 'users.id', 'usage_events.user_id')
    .select((eb) => [
      'usage_events.user_id',
      'users.email',
      'users.name',
      eb.fn.countAll().as('messages'),
      eb.fn.sum('usage_events.prompt_tokens').as('prompt_tokens'),
      eb.fn.sum('usage_events.completion_tokens').as('completion_tokens'),
    ])
    .groupBy(['usage_events.user_id', 'users.email', 'users.name'])
    .orderBy(sql`sum(${sql.ref('usage_events.prompt_tokens')} + ${sql.ref('usage_events.completion_tokens')})`, 'desc')
    .orderBy('usage_events.user_id')
    .limit(limit)
    .execute();
  return rows.map((row) => ({ user_id: row.user_id, email: row.email, name: row.name, ...totalsOf(row) }));
}

/** Totals per model id, heaviest first. */
export async function byModel(db: Q, range: Range) {
  const rows = await inRange(db, range)
    .select((eb) => [
      'model',
      eb.fn.countAll().as('messages'),
      eb.fn.sum('prompt_tokens').as('prompt_tokens'),
      eb.fn.sum('completion_tokens').as('completion_tokens'),
    ])
    .groupBy('model')
    .orderBy(sql`sum(${sql.ref('prompt_tokens')} + ${sql.ref('completion_tokens')})`, 'desc')
    .orderBy('model')
    .execute();
  return rows.map((row) => ({ model: row.model, ...totalsOf(row) }));
}

/** Totals per UTC day that has any usage, as days since the epoch. */
export async function byDay(db: Q, range: Range) {
  const rows = await inRange(db, range)
    .select((eb) => [
      dayOf.as('day'),
      eb.fn.countAll().as('messages'),
      eb.fn.sum('prompt_tokens').as('prompt_tokens'),
      eb.fn.sum('completion_tokens').as('completion_tokens'),
    ])
    .groupBy(dayOf)
    .execute();
  return rows.map((row) => ({ day: Number(row.day), ...totalsOf(row) }));
}

/** Deletes usage records older than `before` (epoch ms), in batches; answers how many went. */
export function deleteUsageBefore(db: Q, before: number): Promise<number> {
  return deleteOlderThanInBatches(db, 'usage_events', before);
}
