import type { AnalyticsRange, UsageByModel, UsageByUser, UsageDay, UsageSummaryTotals } from '@parley/wire';
import type { Range, UsageTotals } from './analytics.repo.js';

const dayMs = 86_400_000;

/** Totals with their sum, as every analytics answer shows them. */
function withTotal<T extends UsageTotals>(row: T) {
  return { ...row, total_tokens: row.prompt_tokens + row.completion_tokens };
}

/** The range an answer covers, in epoch seconds (`to` exclusive). */
export function toRangeResponse(range: Range): AnalyticsRange {
  return { from: Math.floor(range.from / 1000), to: Math.floor(range.to / 1000) };
}

/** The totals over a range. */
export function toSummaryResponse(summary: UsageTotals & { active_users: number; errors: number; avg_ttft_ms: number | null }): UsageSummaryTotals {
  return withTotal(summary);
}

/** One user's totals; email and name are null once the account is deleted. */
export function toUserUsageResponse(row: UsageTotals & { user_id: string; email: string | null; name: string | null }): UsageByUser {
  return withTotal(row);
}

/** One model's totals. */
export function toModelUsageResponse(row: UsageTotals & { model: string }): UsageByModel {
  return withTotal(row);
}

/** One zero-filled day: its UTC date, its start in epoch seconds, and its totals. */
export function toDayResponse(row: UsageTotals & { day: number }): UsageDay {
  const { day, ...totals } = row;
  return { date: new Date(day * dayMs).toISOString().slice(0, 10), start: day * 86_400, ...withTotal(totals) };
}
