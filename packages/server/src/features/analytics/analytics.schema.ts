import { z } from 'zod';
import { rangeInOrder, rangeOrderMessage, timeParam } from '../../http/time-query.js';

const rangeFields = { from: timeParam('start'), to: timeParam('end') };

/** `?from=&to=`: epoch seconds or ISO 8601; `to` defaults to now and `from` to 30 days before `to`. */
export const rangeQuery = z.object(rangeFields).refine(rangeInOrder, rangeOrderMessage);
export type RangeQuery = z.infer<typeof rangeQuery>;

/** `GET /analytics/by-user`: the range and how many users (the heaviest first). */
export const byUserQuery = z
  .object({ ...rangeFields, limit: z.coerce.number().int().min(1).max(1000).default(100) })
  .refine(rangeInOrder, rangeOrderMessage);
export type ByUserQuery = z.infer<typeof byUserQuery>;
