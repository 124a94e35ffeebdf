import type { ChatMessage } from './determinism.js';
import { isRecord } from './http.js';

/** Result of reading one field: the value, or a message for a 400. */
export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

/** Reads a chat message list; content may be a string, an array of parts, or null (tool calls). */
export function readMessages(value: unknown): Checked<ChatMessage[]> {
  if (!Array.isArray(value)) return { ok: false, message: "'messages' is a required property and must be an array" };
  for (let i = 0; i < value.length; i++) {
    const message: unknown = value[i];
    if (!isRecord(message) || typeof message.role !== 'string') {
      return { ok: false, message: `messages[${i}] must be an object with a string 'role'` };
    }
    const content = message.content;
    if (content !== undefined && content !== null && typeof content !== 'string' && !Array.isArray(content)) {
      return { ok: false, message: `messages[${i}].content must be a string or an array of content parts` };
    }
  }
  return { ok: true, value: value as ChatMessage[] };
}

/** Reads an optional token count (max_tokens...); null and undefined mean "no bound". */
export function readOptionalCount(value: unknown, name: string): Checked<number | undefined> {
  if (value === undefined || value === null) return { ok: true, value: undefined };
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    return { ok: false, message: `'${name}' must be a non-negative integer` };
  }
  return { ok: true, value };
}

/** Reads the model field every POST route needs. */
export function readModel(body: Record<string, unknown>): Checked<string> {
  const model = body.model;
  if (typeof model !== 'string' || model === '') return { ok: false, message: "'model' is required" };
  return { ok: true, value: model };
}
