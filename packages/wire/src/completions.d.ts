import type { Usage } from './chats.js';

/**
 * One `data:` payload of an OpenAI chat completion stream as Parley writes it. Chunks relayed
 * from the upstream as they came may carry more fields.
 */
export interface CompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: {
    index: number;
    delta: { role?: string; content?: string | null };
    finish_reason: string | null;
  }[];
  /** On the last chunk when the request asked for `stream_options.include_usage`. */
  usage?: Usage | null;
}

/** A failure in the middle of a stream, sent as its own `data:` payload. */
export interface StreamError {
  error: { message: string; type: 'upstream_error' };
}

/** Parley's own event on a resumed stream: another instance took the answer over; `regenerate` starts the text afresh. */
export interface TakeoverEvent {
  parley: { event: 'takeover'; mode: 'continue' | 'regenerate' };
}

/** Any `data:` payload of a completion stream other than `[DONE]`. */
export type CompletionStreamData = CompletionChunk | StreamError | TakeoverEvent;
