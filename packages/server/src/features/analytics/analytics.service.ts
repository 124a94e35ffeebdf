import { randomUUID } from 'node:crypto';
import { httpErrors } from '../../http/errors.js';
import type { UsageStatus } from '../../platform/db/schema.js';
import type { Platform } from '../../platform/platform.js';
import * as repo from './analytics.repo.js';
import { createUsageBuffer } from './usage-buffer.js';
import type { RangeQuery } from './analytics.schema.js';

/** One finished answer, as the completions feature reports it. */
export interface AnswerRecord {
  userId: string;
  /** The model id the client asked for (a preset's id, or a prefixed id). */
  model: string;
  connectionId: string | null;
  /** The upstream's token counts; null when it sent none. */
  usage: { prompt_tokens: number; completion_tokens: number } | null;
  ttftMs: number | null;
  durationMs: number;
  status: UsageStatus;
}

const dayMs = 86_400_000;
const defaultRangeMs = 30 * dayMs;
// Zero-filled days one request may ask for: ten years is already a chart no one can read.
const maxDays = 3700;

/** A whole non-negative number from whatever an upstream reported. */
function whole(value: number | null | undefined): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.round(value) : 0;
}

/**
 * Usage analytics: records every answer generated and sums them per user, model and day. Records
 * are held briefly and written in batches; every read first writes what this instance holds.
 */
export function createAnalyticsService(platform: Platform) {
  const { db, clock } = platform;
  // Records are written in batches: no query per answer, and none lost to a short database outage.
  const buffer = createUsageBuffer(platform);

  /** The range asked for, defaulting to the last 30 days up to now. */
  function rangeOf(query: RangeQuery): repo.Range {
    const to = query.to ?? clock.now();
    const from = query.from ?? to - defaultRangeMs;
    if (from > to) throw httpErrors.badRequest('`from` must not be after `to`');
    return { from, to };
  }

  return {
    rangeOf,

    /**
     * Records one finished answer, written with the next batch (within a second, or once the
     * database is back). Called at the end of every generation; never throws.
     */
    async recordAnswer(answer: AnswerRecord): Promise<void> {
      buffer.add({
        id: randomUUID(),
        at: clock.now(),
        user_id: answer.userId,
        model: answer.model,
        connection_id: answer.connectionId,
        prompt_tokens: whole(answer.usage?.prompt_tokens),
        completion_tokens: whole(answer.usage?.completion_tokens),
        // A time the upstream could not have taken is no time at all: left out of the mean.
        ttft_ms: answer.ttftMs !== null && Number.isFinite(answer.ttftMs) && answer.ttftMs >= 0 ? Math.round(answer.ttftMs) : null,
        duration_ms: whole(answer.durationMs),
        status: answer.status,
      });
    },

    /** Writes the records this service holds now (if the database takes them). */
    flush: () => buffer.flush(),

    /** Writes the records this instance still holds, then stops; call once nothing records any more. */
    close: () => buffer.close(),

    /** Totals over the range. */
    summary: async (range: repo.Range) => {
      await buffer.flush();
      return repo.summary(db.kysely, range);
    },

    /** Totals per user, heaviest first. */
    byUser: async (range: repo.Range, limit: number) => {
      await buffer.flush();
      return repo.byUser(db.kysely, range, limit);
    },

    /** Totals per model, heaviest first. */
    byModel: async (range: repo.Range) => {
      await buffer.flush();
      return repo.byModel(db.kysely, range);
    },

    /** Totals per UTC day from the day `from` falls in to the day before `to`, days without usage as zeros. */
    async byDay(range: repo.Range) {
      const first = Math.floor(range.from / dayMs);
      const last = Math.max(first, Math.ceil(range.to / dayMs) - 1);
      if (last - first + 1 > maxDays) throw httpErrors.badRequest(`The range may span at most ${maxDays} days`);
      await buffer.flush();
      const found = new Map((await repo.byDay(db.kysely, range)).map((row) => [row.day, row]));
      const days = [];
      for (let day = first; day <= last; day += 1) {
        days.push(found.get(day) ?? { day, messages: 0, prompt_tokens: 0, completion_tokens: 0 });
      }
      return days;
    },

    /** Deletes usage records older than `before` (epoch ms), in batches; answers how many went. */
    pruneOlderThan: (before: number): Promise<number> => repo.deleteUsageBefore(db.kysely, before),
  };
}

export type AnalyticsService = ReturnType<typeof createAnalyticsService>;
