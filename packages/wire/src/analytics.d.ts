/** The range an analytics answer covers (`to` exclusive). */
export interface AnalyticsRange {
  from: number;
  to: number;
}

/** Messages and tokens of one group. */
export interface UsageTotals {
  messages: number;
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** The totals over a range, with who was active, what failed and how fast answers started. */
export interface UsageSummaryTotals extends UsageTotals {
  active_users: number;
  errors: number;
  avg_ttft_ms: number | null;
}

/** One UTC day's totals; `start` is the day's first second. */
export interface UsageDay extends UsageTotals {
  date: string;
  start: number;
}

/** One model's totals. */
export interface UsageByModel extends UsageTotals {
  model: string;
}

/** One user's totals; email and name are null once the account is deleted. */
export interface UsageByUser extends UsageTotals {
  user_id: string;
  email: string | null;
  name: string | null;
}

/** `GET /api/v1/analytics/summary`. */
export type UsageSummary = AnalyticsRange & UsageSummaryTotals;
/** `GET /api/v1/analytics/by-day`: every day of the range, zero-filled. */
export type UsageByDayList = AnalyticsRange & { days: UsageDay[] };
/** `GET /api/v1/analytics/by-model`. */
export type UsageByModelList = AnalyticsRange & { models: UsageByModel[] };
/** `GET /api/v1/analytics/by-user`: the heaviest users first. */
export type UsageByUserList = AnalyticsRange & { users: UsageByUser[] };
