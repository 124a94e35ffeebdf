import { z } from 'zod';

// Size limits for the open-ended JSON fields schemas accept whole (chat params, message info and
// usage, attached file records): each is bounded by its size as JSON, since its shape is the client's.

/** The length of `value` written as JSON (what a row or an upstream request will hold). */
function jsonLength(value: unknown): number {
  return JSON.stringify(value)?.length ?? 0;
}

/** Any JSON value of at most `maxChars` characters when written as JSON. */
export function boundedJson(maxChars: number) {
  return z.unknown().refine((value) => jsonLength(value) <= maxChars, `must be at most ${maxChars} characters as JSON`);
}

/** A JSON object with keys of at most 256 characters and at most `maxChars` characters as JSON. */
export function boundedJsonObject(maxChars: number) {
  return z.record(z.string().max(256), z.unknown()).refine((value) => jsonLength(value) <= maxChars, `must be at most ${maxChars} characters as JSON`);
}

/** At most `max` entries in an object keyed by id (Open WebUI's `history.messages`). */
export function maxKeys(max: number) {
  return (value: Record<string, unknown>) => Object.keys(value).length <= max;
}
