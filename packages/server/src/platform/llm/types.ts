/** The chat request Parley sends upstream, in OpenAI's vocabulary whatever the wire format. */
export interface ChatRequest {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  seed?: number;
  stop?: string | string[];
  /** Any other OpenAI fields the client sent; passed through to OpenAI-compatible upstreams only. */
  extra: Record<string, unknown>;
}

/** One chat message; `content` may be OpenAI content parts (text and images). */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | Array<Record<string, unknown>> | null;
  [key: string]: unknown;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** One fragment of a streamed tool call; fragments with the same index make one call. */
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: string;
  function?: { name?: string; arguments?: string };
}

/** A whole tool call, as a non-streamed OpenAI answer carries it. */
export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

/** What an upstream stream yields, normalised across wire formats. */
export type UpstreamEvent =
  /** Text for the answer; `raw` is the upstream's own OpenAI chunk JSON when there is one. */
  | { type: 'delta'; content: string; raw?: string; toolCalls?: ToolCallDelta[] }
  /** A chunk that carries no text (role-only, tool calls): relayed as it is. */
  | { type: 'other'; raw: string; toolCalls?: ToolCallDelta[] }
  | { type: 'finish'; reason: string }
  | { type: 'usage'; usage: Usage }
  /**
   * The upstream reported an error, or sent what cannot be read. `message` is Parley's own wording, safe to
   * show anyone; `detail` is what the upstream said (credentials redacted), for admins and logs only.
   */
  | { type: 'error'; message: string; detail?: string };

/** Connection details for one upstream server. */
export interface UpstreamTarget {
  type: 'openai' | 'ollama';
  baseUrl: string;
  apiKey: string;
  /** Talk HTTP/2 to this upstream (see createUpstreamAgent). */
  http2?: boolean;
}

/** Removes trailing slashes so paths can be appended with one. */
export function normaliseBaseUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

/**
 * Why an upstream call failed; completions turn these into 429/502/504. The message is Parley's own
 * wording (never upstream text, so it may be shown and logged anywhere); `detail` holds what the upstream
 * said, credentials redacted, for admins and logs only.
 */
export class UpstreamError extends Error {
  constructor(
    /** `exhausted`: this process ran out of sockets or file descriptors; another instance may do better. */
    readonly kind: 'status' | 'timeout' | 'network' | 'protocol' | 'aborted' | 'exhausted',
    message: string,
    readonly status?: number,
    readonly retryAfter?: string,
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

/** Flattens OpenAI content parts to their text. */
export function textOf(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!content) return '';
  return content
    .map((part) => (part.type === 'text' && typeof part.text === 'string' ? part.text : ''))
    .join('');
}
