import type { UpstreamEvent, Usage } from './types.js';

/**
 * Checks for values read from an upstream's JSON: whatever it sends, the wire parsers hand on only
 * text as text and counts as non-negative integers, and report anything else as an error event.
 */

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The largest token count believed: usage is stored in 32-bit integer columns. */
const MAX_COUNT = 2 ** 31 - 1;

/** A token count as sent, or 0 when it is not a number from 0 to MAX_COUNT. */
export function countOf(value: unknown): number {
  return typeof value === 'number' && value >= 0 && value <= MAX_COUNT ? Math.floor(value) : 0;
}

/** Usage from counts an upstream sent; `total` defaults to the sum. */
export function usageOf(prompt: unknown, completion: unknown, total?: unknown): Usage {
  const promptTokens = countOf(prompt);
  const completionTokens = countOf(completion);
  const totalTokens = typeof total === 'number' ? countOf(total) : Math.min(MAX_COUNT, promptTokens + completionTokens);
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: totalTokens };
}

/** The text of an upstream's error value: a string, `{ message }`, or the JSON of anything else. */
export function errorTextOf(error: unknown): string {
  if (typeof error === 'string') return error;
  if (isRecord(error) && typeof error.message === 'string') return error.message;
  return JSON.stringify(error) ?? String(error);
}

/** An error event for bytes that break the wire format: Parley's words only, nothing to redact. */
export function malformed(out: UpstreamEvent[], what: string): void {
  out.push({ type: 'error', message: `upstream sent ${what}` });
}

/** Why `content` cannot be used as answer text, or null when it can (a string without NUL, or absent). */
export function contentProblem(content: unknown): string | null {
  if (content === undefined || content === null) return null;
  if (typeof content !== 'string') return `content that is not text (${Array.isArray(content) ? 'array' : typeof content})`;
  // PostgreSQL text cannot hold U+0000, and no answer needs it.
  if (content.includes('\u0000')) return 'a NUL character (U+0000) in the answer';
  return null;
}
