import type { ServerResponse } from 'node:http';
import type { CompletionChunk, StreamError } from '@parley/wire';
import { eventStreamHeaders, sseDone, sseEvent } from '../../http/sse.js';
import type { UpstreamEvent } from '../../platform/llm/types.js';
import type { GenerationInfo, GenerationOutcome, StreamingListener } from '../generations/generations.service.js';

function chunk(info: GenerationInfo, delta: Record<string, unknown>, finishReason: string | null): string {
  return JSON.stringify({
    id: `chatcmpl-${info.id}`,
    object: 'chat.completion.chunk',
    created: info.createdAt,
    model: info.model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  } satisfies CompletionChunk);
}

function relayRaw(raw: string, info: GenerationInfo): string {
  if (info.model === info.upstreamModel) return raw;
  // The client asked for a preset or prefixed id; it must see that id, not the upstream's.
  const parsed = JSON.parse(raw) as Record<string, unknown>;
  parsed.model = info.model;
  return JSON.stringify(parsed);
}

/**
 * Translates events into OpenAI `chat.completion.chunk` SSE text (one string per batch).
 * With `eventId`, the batch's last event carries it, so a client that saw it has the whole batch.
 */
export function toSseText(batch: UpstreamEvent[], info: GenerationInfo, includeUsage: boolean, eventId?: number): string {
  let text = '';
  // Held back one step, so the batch's last event can carry the id.
  let last: string | undefined;
  for (const event of batch) {
    let data: string | undefined;
    if (event.type === 'delta') data = event.raw !== undefined ? relayRaw(event.raw, info) : chunk(info, { content: event.content }, null);
    else if (event.type === 'other') data = relayRaw(event.raw, info);
    else if (event.type === 'finish' && !info.hasRawChunks) data = chunk(info, {}, event.reason);
    else if (event.type === 'usage' && includeUsage) {
      data = JSON.stringify({ id: `chatcmpl-${info.id}`, object: 'chat.completion.chunk', created: info.createdAt, model: info.model, choices: [], usage: event.usage } satisfies CompletionChunk);
    } else if (event.type === 'error') data = upstreamErrorData(event.message);
    if (data === undefined) continue;
    if (last !== undefined) text += sseEvent(last);
    last = data;
  }
  if (last === undefined) return text;
  return text + sseEvent(last, eventId === undefined ? undefined : { id: eventId });
}

/** The data of an error event, as OpenAI streams report one. */
export function upstreamErrorData(message: string): string {
  return JSON.stringify({ error: { message, type: 'upstream_error' } } satisfies StreamError);
}

/**
 * Streams a generation to an HTTP response as OpenAI server-sent events, ending with `[DONE]`.
 * A class rather than closures: one object per held stream instead of a closure and context per method.
 */
export class OpenAiSseWriter implements StreamingListener {
  private hasSentError = false;

  constructor(
    private readonly res: ServerResponse,
    private readonly headers: Record<string, string>,
    private readonly includeUsage: boolean,
    private readonly isResumable = false,
  ) {}

  // Every header goes through writeHead: one set with setHeader first would keep a headers object per stream.
  ensureHead(more?: Record<string, string>): void {
    if (!this.res.headersSent) this.res.writeHead(200, { ...eventStreamHeaders, ...this.headers, ...more });
  }

  onEvents(batch: UpstreamEvent[], info: GenerationInfo, seq: number): void {
    this.ensureHead();
    if (batch.some((event) => event.type === 'error')) this.hasSentError = true;
    const text = toSseText(batch, info, this.includeUsage, this.isResumable ? seq : undefined);
    if (text) this.res.write(text);
  }

  onEnd(outcome: GenerationOutcome, info: GenerationInfo): void {
    this.ensureHead();
    // An error that arrived as an event was already relayed; a broken connection or timeout was not.
    if (outcome.status === 'error' && outcome.error && !this.hasSentError) {
      this.res.write(sseEvent(upstreamErrorData(outcome.error)));
    } else if (outcome.isStopped) {
      this.res.write(sseEvent(chunk(info, {}, 'stop')));
    }
    this.res.end(sseDone);
  }
}

/** Builds the non-streamed `chat.completion` body from a finished generation. */
export function toCompletionJson(info: GenerationInfo, outcome: GenerationOutcome) {
  return {
    id: `chatcmpl-${info.id}`,
    object: 'chat.completion',
    created: info.createdAt,
    model: info.model,
    choices: [{ index: 0, message: assistantMessage(outcome), finish_reason: outcome.finishReason ?? 'stop' }],
    usage: outcome.usage ?? undefined,
  };
}

// OpenAI answers a pure tool call with content null, and carries the calls beside the text.
function assistantMessage(outcome: GenerationOutcome) {
  if (!outcome.toolCalls) return { role: 'assistant', content: outcome.content };
  return { role: 'assistant', content: outcome.content === '' ? null : outcome.content, tool_calls: outcome.toolCalls };
}
