import { z } from 'zod';
import { rangeInOrder, rangeOrderMessage, timeParam } from '../../http/time-query.js';

/** Every action the audit log records. */
export const auditActions = [
  'auth.signin.success',
  'auth.signin.failure',
  'auth.signin.throttled',
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
export const auditExportQuery = z.object(auditFilterFields).refine(rangeInOrder, rangeOrderMessage);
export type AuditFilters = z.infer<typeof auditExportQuery>;

/** `GET /audit/`: the filters and a page. */
export const auditListQuery = z
  .object({
    ...auditFilterFields,
    page: z.coerce.number().int().min(1).max(1_000_000).default(1),
    limit: z.coerce.number().int().min(1).max(1000).default(50),
  })
  .refine(rangeInOrder, rangeOrderMessage);
export type AuditListQuery = z.infer<typeof auditListQuery>;
