import { sql, type Kysely } from 'kysely';
import { deleteOlderThanInBatches } from '../../platform/db/batched-delete.js';
import type { AuditEventRow, Database } from '../../platform/db/schema.js';
import type { AuditFilters } from './audit.schema.js';

type Q = Kysely<Database>;

/** `%`, `_` and the escape character itself, made literal for LIKE … ESCAPE '\'. */
function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

function matching(db: Q, filters: AuditFilters) {
  let query = db.selectFrom('audit_events');
  const { action, actor, target, target_type: targetType, from, to } = filters;
  if (action) {
    const prefix = `${escapeLike(action)}.%`;
    query = query.where((eb) => eb.or([eb('action', '=', action), eb('action', 'like', sql<string>`${prefix} escape '\\'`)]));
  }
  if (actor) {
    const pattern = `%${escapeLike(actor.toLowerCase())}%`;
    query = query.where((eb) =>
      eb.or([eb('actor_id', '=', actor), eb(sql<string>`lower(actor_email)`, 'like', sql<string>`${pattern} escape '\\'`)]),
    );
  }
  if (target) query = query.where('target_id', '=', target);
  if (targetType) query = query.where('target_type', '=', targetType);
  if (from !== undefined) query = query.where('at', '>=', from);
  if (to !== undefined) query = query.where('at', '<', to);
  return query;
}

/** Writes one event. */
export async function insertEvent(db: Q, event: AuditEventRow): Promise<void> {
  await db.insertInto('audit_events').values(event).execute();
}

/** One page of matching events, newest first, and how many match in all. */
export async function listEvents(
  db: Q,
  filters: AuditFilters,
  page: { offset: number; limit: number },
): Promise<{ events: AuditEventRow[]; total: number }> {
  const events = await matching(db, filters)
    .selectAll()
    .orderBy('at', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit)
    .offset(page.offset)
    .execute();
  const count = await matching(db, filters)
    .select((eb) => eb.fn.countAll<number | string>().as('total'))
    .executeTakeFirstOrThrow();
  return { events, total: Number(count.total) };
}

/** The next `limit` matching events, newest first, strictly after `after` in that order (keyset paging). */
export function eventsAfter(db: Q, filters: AuditFilters, after: { at: number; id: string } | null, limit: number): Promise<AuditEventRow[]> {
  let query = matching(db, filters).selectAll();
  if (after) {
    query = query.where((eb) => eb.or([eb('at', '<', after.at), eb.and([eb('at', '=', after.at), eb('id', '<', after.id)])]));
  }
  return query.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit).execute();
}

/** Deletes events older than `before` (epoch ms), in batches; answers how many went. */
export function deleteEventsBefore(db: Q, before: number): Promise<number> {
  return deleteOlderThanInBatches(db, 'audit_events', before);
}
