import { api } from './http';

/** One audit log entry (`at` in epoch seconds). */
export interface AuditEvent {
  id: string;
  at: number;
  actor_id: string | null;
  actor_email: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  ip: string | null;
  details: Record<string, unknown>;
  request_id: string | null;
}

/** Filters of the audit log; empty strings are left out. Dates are YYYY-MM-DD (UTC, `to` inclusive). */
export interface AuditFilters {
  action?: string;
  actor?: string;
  target?: string;
  from?: string;
  to?: string;
}

function query(params: Record<string, string | number | undefined>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(key, String(value));
  return search.toString();
}

export const listAuditEvents = (filters: AuditFilters, page: number, limit: number) =>
  api<{ events: AuditEvent[]; total: number }>(`/api/v1/audit/?${query({ ...filters, page, limit })}`);

/** Where the CSV export of the filtered log downloads from (the session cookie authenticates it). */
export const auditExportUrl = (filters: AuditFilters) => `/api/v1/audit/export.csv?${query({ ...filters })}`;

/** Messages and tokens of one group. */
export interface UsageTotals {
  messages: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** A range in epoch seconds; `to` left out means now. */
export interface UsageRange {
  from: number;
  to?: number;
}

export type UsageSummary = UsageTotals & { from: number; to: number; active_users: number; errors: number; avg_ttft_ms: number | null };
export type UsageDay = UsageTotals & { date: string; start: number };
export type UsageByModel = UsageTotals & { model: string };
export type UsageByUser = UsageTotals & { user_id: string; email: string | null; name: string | null };

export const usageSummary = (range: UsageRange) => api<UsageSummary>(`/api/v1/analytics/summary?${query({ ...range })}`);

export const usageByDay = (range: UsageRange) => api<{ days: UsageDay[] }>(`/api/v1/analytics/by-day?${query({ ...range })}`);

export const usageByModel = (range: UsageRange) => api<{ models: UsageByModel[] }>(`/api/v1/analytics/by-model?${query({ ...range })}`);

export const usageByUser = (range: UsageRange, limit: number) =>
  api<{ users: UsageByUser[] }>(`/api/v1/analytics/by-user?${query({ ...range, limit })}`);
