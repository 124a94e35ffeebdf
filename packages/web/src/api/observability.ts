import type { AuditPage, UsageByDayList, UsageByModelList, UsageByUserList, UsageSummary } from '@parley/wire';
import { api } from './http';

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
  api<AuditPage>(`/api/v1/audit/?${query({ ...filters, page, limit })}`);

/** Where the CSV export of the filtered log downloads from (the session cookie authenticates it). */
export const auditExportUrl = (filters: AuditFilters) => `/api/v1/audit/export.csv?${query({ ...filters })}`;

/** The range asked for, in epoch seconds; `to` left out means now. */
export interface UsageRange {
  from: number;
  to?: number;
}

export const usageSummary = (range: UsageRange) => api<UsageSummary>(`/api/v1/analytics/summary?${query({ ...range })}`);

export const usageByDay = (range: UsageRange) => api<UsageByDayList>(`/api/v1/analytics/by-day?${query({ ...range })}`);

export const usageByModel = (range: UsageRange) => api<UsageByModelList>(`/api/v1/analytics/by-model?${query({ ...range })}`);

export const usageByUser = (range: UsageRange, limit: number) =>
  api<UsageByUserList>(`/api/v1/analytics/by-user?${query({ ...range, limit })}`);
