import type { AuditEvent } from '@parley/wire';
import type { AuditEventRow } from '../../platform/db/schema.js';

function parseDetails(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** An audit event as the admin API shows it (time in epoch seconds, details as an object). */
export function toAuditEventResponse(row: AuditEventRow): AuditEvent {
  return {
    id: row.id,
    at: Math.floor(row.at / 1000),
    actor_id: row.actor_id,
    actor_email: row.actor_email,
    action: row.action,
    target_type: row.target_type,
    target_id: row.target_id,
    ip: row.ip,
    details: parseDetails(row.details),
    request_id: row.request_id,
  };
}
export type AuditEventResponse = ReturnType<typeof toAuditEventResponse>;

const csvColumns = ['time', 'action', 'actor_id', 'actor_email', 'target_type', 'target_id', 'ip', 'request_id', 'details', 'id'];

/**
 * One CSV field (RFC 4180): quoted when it holds a quote, comma or line break. A field a
 * spreadsheet would run as a formula (starting = + - @ or a control character) gets a leading
 * apostrophe: names and emails in the log come from users.
 */
export function csvField(value: string | null): string {
  if (value === null) return '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

function csvRow(row: AuditEventRow): string {
  const fields = [new Date(row.at).toISOString(), row.action, row.actor_id, row.actor_email, row.target_type, row.target_id, row.ip, row.request_id, row.details, row.id];
  return `${fields.map(csvField).join(',')}\r\n`;
}

/** The audit log as CSV text: a header row, then one row per event, one chunk per batch. */
export async function* toAuditCsv(batches: AsyncIterable<AuditEventRow[]>): AsyncGenerator<string> {
  yield `${csvColumns.join(',')}\r\n`;
  for await (const batch of batches) yield batch.map(csvRow).join('');
}
