import { z } from 'zod';

// Time bounds in query strings (`?from=&to=`), shared by every endpoint that lists by time.
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
    .max(64)
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

/** The message and field of a range refused by `rangeInOrder`. */
export const rangeOrderMessage = { message: '`from` must not be after `to`', path: ['from'] };
