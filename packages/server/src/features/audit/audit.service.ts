import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AuditContext } from '../../http/audit-context.js';
import type { AuditEventRow, Database } from '../../platform/db/schema.js';
import type { Platform } from '../../platform/platform.js';
import { withoutSecrets } from './audit-details.js';
import * as repo from './audit.repo.js';
import type { AuditAction, AuditFilters, AuditListQuery } from './audit.schema.js';

// Features that audit a change describe it with this: reachable here so they import only the service.
export { changedFields, type FieldChanges } from './audit-details.js';

/** What happened, to what; the actor, address and request id come from the AuditContext. */
export interface AuditEventInput {
  action: AuditAction;
  target?: { type: string; id: string } | null;
  /** Before/after of the changed fields and other facts; never a secret. */
  details?: Record<string, unknown>;
  /** Names the actor where the context has none (sign-in, sign-up); id null for an unknown account. */
  actor?: { id: string | null; email: string | null };
}

// Rows read per query while exporting: bounds memory whatever the log's size.
const exportBatchSize = 500;

/**
 * The audit log of security-relevant actions.
 *
 * Where the acting service already runs a transaction (sign-up, API key creation, user
 * changes and deletion) it writes the event in it with `recordIn`: the action and its record
 * commit together, and if the record cannot be written the action fails too. Elsewhere it calls
 * `record` after the action has happened: a failure to write is logged as an error and does not
 * fail the request, since the change is already made and the client must not think otherwise.
 */
export function createAuditService(platform: Platform) {
  const { db, clock, log } = platform;

  function rowOf(context: AuditContext, event: AuditEventInput): AuditEventRow {
    const actor = event.actor ?? context.actor;
    return {
      id: randomUUID(),
      at: clock.now(),
      actor_id: actor?.id ?? null,
      actor_email: actor?.email ?? null,
      action: event.action,
      target_type: event.target?.type ?? null,
      target_id: event.target?.id ?? null,
      ip: context.ip,
      details: JSON.stringify(withoutSecrets(event.details ?? {})),
      request_id: context.requestId,
    };
  }

  return {
    /** Writes an event inside the caller's transaction: it commits or rolls back with the action. */
    async recordIn(trx: Kysely<Database>, context: AuditContext, event: AuditEventInput): Promise<void> {
      await repo.insertEvent(trx, rowOf(context, event));
    },

    /** Writes an event after the action; never throws (a failure is logged as an error). */
    async record(context: AuditContext, event: AuditEventInput): Promise<void> {
      const row = rowOf(context, event);
      try {
        await repo.insertEvent(db.kysely, row);
      } catch (error) {
        log.error({ err: error, audit: { ...row, details: undefined } }, 'audit event could not be written');
      }
    },

    /** One page of events matching the filters, newest first, and the total matching. */
    list(query: AuditListQuery): Promise<{ events: AuditEventRow[]; total: number }> {
      const { page, limit, ...filters } = query;
      return repo.listEvents(db.kysely, filters, { offset: (page - 1) * limit, limit });
    },

    /** Every matching event, newest first, in batches read one query at a time. */
    async *exportBatches(filters: AuditFilters): AsyncGenerator<AuditEventRow[]> {
      let after: { at: number; id: string } | null = null;
      for (;;) {
        const batch = await repo.eventsAfter(db.kysely, filters, after, exportBatchSize);
        if (batch.length > 0) yield batch;
        const last = batch.at(-1);
        if (!last || batch.length < exportBatchSize) return;
        after = { at: last.at, id: last.id };
      }
    },

    /** Deletes events older than `before` (epoch ms), in batches; answers how many went. */
    pruneOlderThan: (before: number): Promise<number> => repo.deleteEventsBefore(db.kysely, before),
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
