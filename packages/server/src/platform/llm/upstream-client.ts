import type { Agent } from 'undici';
import { startClientSpan } from '../telemetry/tracing.js';
import { DEFAULT_MAX_LINE_BYTES, NdjsonDecoder, SseDecoder } from './line-decoders.js';
import { fetchModelList, type UpstreamModel } from './model-list.js';
import { ollamaRequestBody, parseOllamaLine } from './ollama-wire.js';
import { openAiRequestBody, parseOpenAiEvent } from './openai-wire.js';
import type { ChatRequest, UpstreamTarget } from './types.js';
import type { StreamGuardReport } from './stream-guard.js';
import { createUpstreamAgent } from './upstream-agents.js';
import { toUpstreamError, UpstreamStreamHandler, type UpstreamStream } from './upstream-stream.js';

/** Timeouts for one upstream call, in milliseconds. */
export interface UpstreamTimeouts {
  /** Longest wait for response headers. */
  headersMs: number;
  /** Longest silence between two chunks of the body. */
  idleMs: number;
}

/** How the client treats what upstreams send. */
export interface UpstreamClientOptions {
  /** The longest line (or SSE event) accepted from a stream; a longer one ends the answer with an error. */
  maxLineBytes?: number;
  /** Told when a stream guard catches an unexpected exception (which ends that one stream). */
  onGuardTrip?: StreamGuardReport;
}

const ignoreGuardTrips: StreamGuardReport = () => undefined;

/** Talks to model servers over pooled keep-alive connections; one per process, closed with the app. */
export class UpstreamClient {
  private readonly maxLineBytes: number;
  private readonly onGuardTrip: StreamGuardReport;

  constructor(options: UpstreamClientOptions = {}) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.onGuardTrip = options.onGuardTrip ?? ignoreGuardTrips;
  }

  // Keep-alive pooling: a relayed request must not pay for a new TCP handshake.
  private readonly http1 = createUpstreamAgent(false);
  // Made on first use: most deployments have no HTTP/2 connection.
  private http2: Agent | undefined;

  private agentFor(target: UpstreamTarget): Agent {
    return target.http2 ? (this.http2 ??= createUpstreamAgent(true)) : this.http1;
  }

  /** The models an upstream lists, giving up after `timeoutMs`; throws UpstreamListError with a message fit for an admin. */
  listModels(target: UpstreamTarget, timeoutMs: number): Promise<UpstreamModel[]> {
    return fetchModelList(this.agentFor(target), target, timeoutMs);
  }

  /** Opens a streamed chat completion; throws UpstreamError unless the upstream answered 2xx. */
  streamChat(target: UpstreamTarget, chat: ChatRequest, timeouts: UpstreamTimeouts): Promise<UpstreamStream> {
    const isOllama = target.type === 'ollama';
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: isOllama ? 'application/x-ndjson' : 'text/event-stream' };
    if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
    let handler: UpstreamStreamHandler | undefined;
    try {
      const url = new URL(isOllama ? `${target.baseUrl}/api/chat` : `${target.baseUrl}/chat/completions`);
      const span = startClientSpan('POST', url, headers);
      handler = isOllama
        ? new UpstreamStreamHandler(new NdjsonDecoder(this.maxLineBytes), parseOllamaLine, span, target, this.onGuardTrip)
        : new UpstreamStreamHandler(new SseDecoder(this.maxLineBytes), parseOpenAiEvent, span, target, this.onGuardTrip);
      this.agentFor(target).dispatch(
        {
          origin: url.origin,
          path: url.pathname + url.search,
          method: 'POST',
          // undici keeps a request it may not retry alone on its connection, which over HTTP/2 would
          // give every stream a connection of its own. It never resends a request it already sent.
          idempotent: true,
          headers,
          body: isOllama ? ollamaRequestBody(chat) : openAiRequestBody(chat),
          headersTimeout: timeouts.headersMs,
          bodyTimeout: timeouts.idleMs,
        },
        handler,
      );
    } catch (error) {
      const failure = toUpstreamError(error);
      handler?.span.end(undefined, failure);
      return Promise.reject(failure);
    }
    return handler.opened;
  }

  /** Collects a whole streamed answer's text; null when the upstream reports an error. */
  async completeText(target: UpstreamTarget, chat: ChatRequest, timeouts: UpstreamTimeouts): Promise<string | null> {
    const stream = await this.streamChat(target, chat, timeouts);
    return new Promise((resolve) => {
      let text = '';
      let failed = false;
      stream.pipe({
        onBatch(batch) {
          for (const event of batch) {
            if (event.type === 'delta') text += event.content;
            else if (event.type === 'error') failed = true;
          }
        },
        onEnd: (error) => resolve(failed || error ? null : text),
      });
    });
  }

  /** Lets go of pooled connections. */
  async close(): Promise<void> {
    await Promise.all([this.http1.close(), this.http2?.close()]);
  }
}
