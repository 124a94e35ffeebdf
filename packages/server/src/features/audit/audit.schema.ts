import { z } from 'zod';

/** Every action the audit log records. */
export const auditActions = [
  'auth.signin.success',
  'auth.signin.failure',
  'auth.signup',
  'auth.api_key.created',
  'auth.api_key.revoked',
  'auth.password.changed',
  'user.role.changed',
  'user.updated',
  'user.deleted',
  'connection.created',
  'connection.updated',
  'connection.deleted',
  'preset.created',
  'preset.updated',
  'preset.deleted',
  'settings.updated',
] as const;
export type AuditAction = (typeof auditActions)[number];

const dayMs = 86_400_000;
const dateOnly = /^\d{4}-\d{2}-\d{2}$/;
const dateTime = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** True when `ymd` (YYYY-MM-DD) names a day that exists: Date.parse rolls 2024-02-30 over to March. */
function isRealDate(ymd: string): boolean {
  const ms = Date.parse(`${ymd}T00:00:00Z`);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === ymd;
}

/** Epoch ms of `text` (epoch seconds, or an ISO 8601 date or date-time), or NaN when it is none of these. */
function parseTime(text: string, edge: 'start' | 'end'): number {
  if (/^\d{1,11}$/.test(text)) return Number(text) * 1000;
  if (dateOnly.test(text) && isRealDate(text)) {
    // A bare `to` date includes that whole day.
    return Date.parse(`${text}T00:00:00Z`) + (edge === 'end' ? dayMs : 0);
  }
  if (dateTime.test(text) && isRealDate(text.slice(0, 10))) return Date.parse(text);
  return Number.NaN;
}

/**
 * A time bound in a query string: epoch seconds or an ISO 8601 date or date-time, as epoch ms.
 * `from` is inclusive, `to` exclusive; a bare date as `to` means the end of that day.
 */
export function timeParam(edge: 'start' | 'end') {
  return z
    .string()
    .trim()
    .transform((text, ctx) => {
      const ms = parseTime(text, edge);
      if (Number.isNaN(ms)) {
        ctx.addIssue({ code: 'custom', message: 'must be epoch seconds or an ISO 8601 date (2024-05-01) or date-time' });
        return z.NEVER;
      }
      return ms;
    })
    .optional();
}

/** Refuses a range that ends before it starts. */
export function rangeInOrder(range: { from?: number; to?: number }): boolean {
  return range.from === undefined || range.to === undefined || range.from <= range.to;
}
const rangeMessage = { message: '`from` must not be after `to`', path: ['from'] };

const auditFilterFields = {
  /** An exact action, or a dotted prefix of one (`auth` matches `auth.signin.failure`). */
  action: z.string().trim().min(1).max(100).optional(),
  /** An actor id, or part of an actor's email (case-insensitive). */
  actor: z.string().trim().min(1).max(254).optional(),
  /** A target id. */
  target: z.string().trim().min(1).max(200).optional(),
  target_type: z.string().trim().min(1).max(50).optional(),
  from: timeParam('start'),
  to: timeParam('end'),
};

/** `GET /audit/export.csv`: the filters. */
export const auditExportQuery = z.object(auditFilterFields).refine(rangeInOrder, rangeMessage);
export type AuditFilters = z.infer<typeof auditExportQuery>;

/** `GET /audit/`: the filters and a page. */
export const auditListQuery = z
  .object({
    ...auditFilterFields,
    page: z.coerce.number().int().min(1).max(1_000_000).default(1),
    limit: z.coerce.number().int().min(1).max(1000).default(50),
  })
  .refine(rangeInOrder, rangeMessage);
export type AuditListQuery = z.infer<typeof auditListQuery>;
