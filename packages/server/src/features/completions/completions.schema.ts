import { z } from 'zod';
import { boundedJson } from '../../http/bounded.js';

const contentPart = z.looseObject({ type: z.string().max(64), text: z.string().max(1_000_000).optional() });

/** One OpenAI chat message; extra fields (name, tool_calls, …) pass through. */
export const chatMessageSchema = z.looseObject({
  role: z.enum(['system', 'user', 'assistant', 'tool']),
  content: z.union([z.string().max(1_000_000), z.array(contentPart).max(100), z.null()]),
});

/**
 * OpenAI's chat completion body, plus Parley's optional fields that save the
 * exchange into a chat. Unknown OpenAI fields pass through to the upstream.
 */
export const completionBody = z.looseObject({
  model: z.string().min(1).max(256),
  messages: z.array(chatMessageSchema).min(1).max(2000),
  stream: z.boolean().default(false),
  stream_options: z.looseObject({ include_usage: z.boolean().optional() }).nullish(),
  temperature: z.number().min(0).max(2).optional(),
  top_p: z.number().min(0).max(1).optional(),
  max_tokens: z.number().int().positive().max(1_000_000).optional(),
  seed: z.number().int().optional(),
  stop: z.union([z.string().max(256), z.array(z.string().max(256)).max(8)]).optional(),
  /** Save the exchange into this chat (the caller's). */
  chat_id: z.string().min(1).max(64).optional(),
  /** The message the new user message hangs under; with `regenerate`, the user message to answer again. */
  parent_id: z.string().min(1).max(64).nullish(),
  /** Id for the saved user message (lets a client refer to it before the answer ends). */
  user_message_id: z.string().min(1).max(64).optional(),
  /** Answer `parent_id` (a user message) again, making a sibling answer instead of a new user message. */
  regenerate: z.boolean().optional(),
  /** Files attached to the user message (Open WebUI sends whole file records, extracted text included). */
  files: z.array(boundedJson(1_000_000)).max(50).optional(),
});
export type CompletionBody = z.infer<typeof completionBody>;

/** Fields Parley consumes; everything else goes upstream. */
export const parleyOnlyFields = ['chat_id', 'parent_id', 'user_message_id', 'regenerate', 'files', 'stream', 'stream_options'] as const;

export const generationParams = z.object({ id: z.string().min(1).max(64) });

/** The last batch a resuming client saw: a non-negative integer (the `id:` of SSE events). */
const eventId = z.string().regex(/^\d{1,9}$/, 'must be the id of an event of this stream (a whole number)');
export const resumeHeaders = z.looseObject({ 'last-event-id': eventId.optional() });
export const resumeQuery = z.object({ last_event_id: eventId.optional() });
