import { Agent, errors as undiciErrors, request, type Dispatcher } from 'undici';
import { NdjsonDecoder, SseDecoder } from './line-decoders.js';
import { ollamaRequestBody, parseOllamaLine } from './ollama-wire.js';
import { openAiRequestBody, parseOpenAiEvent } from './openai-wire.js';
import { UpstreamError, type ChatRequest, type UpstreamEvent, type UpstreamTarget } from './types.js';

/** Timeouts for one upstream call, in milliseconds. */
export interface UpstreamTimeouts {
  /** Longest wait for response headers. */
  headersMs: number;
  /** Longest silence between two chunks of the body. */
  idleMs: number;
}

/** An open upstream stream: batches of events, one batch per network read. */
export type UpstreamStream = AsyncGenerator<UpstreamEvent[], void, undefined>;

/** Talks to model servers over pooled keep-alive connections. */
export class UpstreamClient {
  private readonly agent: Dispatcher;

  constructor() {
    // Keep-alive pooling: a relayed request must not pay for a new TCP handshake.
    this.agent = new Agent({ keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000, connections: null, pipelining: 1 });
  }

  /** Opens a streamed chat completion; throws UpstreamError unless the upstream answered 2xx. */
  async streamChat(target: UpstreamTarget, chat: ChatRequest, timeouts: UpstreamTimeouts, signal?: AbortSignal): Promise<UpstreamStream> {
    const isOllama = target.type === 'ollama';
    const url = isOllama ? `${target.baseUrl}/api/chat` : `${target.baseUrl}/chat/completions`;
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: isOllama ? 'application/x-ndjson' : 'text/event-stream' };
    if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
    let response: Dispatcher.ResponseData;
    try {
      response = await request(url, {
        method: 'POST',
        headers,
        body: isOllama ? ollamaRequestBody(chat) : openAiRequestBody(chat),
        dispatcher: this.agent,
        headersTimeout: timeouts.headersMs,
        bodyTimeout: timeouts.idleMs,
        signal,
      });
    } catch (error) {
      throw toUpstreamError(error);
    }
    if (response.statusCode < 200 || response.statusCode >= 300) {
      const message = await errorMessageOf(response);
      const retryAfter = response.headers['retry-after'];
      throw new UpstreamError('status', message, response.statusCode, typeof retryAfter === 'string' ? retryAfter : undefined);
    }
    return isOllama ? decode(response, new NdjsonDecoder(), parseOllamaLine) : decode(response, new SseDecoder(), parseOpenAiEvent);
  }

  /** Lets go of pooled connections. */
  async close(): Promise<void> {
    await this.agent.close();
  }
}

async function* decode(
  response: Dispatcher.ResponseData,
  decoder: SseDecoder | NdjsonDecoder,
  parse: (item: string, out: UpstreamEvent[]) => void,
): UpstreamStream {
  try {
    for await (const chunk of response.body) {
      const batch: UpstreamEvent[] = [];
      for (const item of decoder.push(chunk as Uint8Array)) parse(item, batch);
      if (batch.length > 0) yield batch;
    }
    const batch: UpstreamEvent[] = [];
    for (const item of decoder.end()) parse(item, batch);
    if (batch.length > 0) yield batch;
  } catch (error) {
    throw toUpstreamError(error);
  } finally {
    // Leaving early (client gone, stop) must release the socket rather than leak it.
    if (!response.body.destroyed) response.body.destroy();
  }
}

/** Maps network and timeout failures to UpstreamError kinds. */
export function toUpstreamError(error: unknown): UpstreamError {
  if (error instanceof UpstreamError) return error;
  if (error instanceof undiciErrors.HeadersTimeoutError) return new UpstreamError('timeout', 'upstream did not answer in time');
  if (error instanceof undiciErrors.BodyTimeoutError) return new UpstreamError('timeout', 'upstream stopped sending mid-stream');
  if (error instanceof Error && (error.name === 'AbortError' || error instanceof undiciErrors.RequestAbortedError)) {
    return new UpstreamError('aborted', 'request to upstream was cancelled');
  }
  const code = (error as { code?: string; cause?: { code?: string } })?.cause?.code ?? (error as { code?: string })?.code;
  if (code === 'ECONNREFUSED') return new UpstreamError('network', 'upstream refused the connection');
  if (code === 'EMFILE' || code === 'ENFILE' || code === 'EADDRNOTAVAIL') {
    return new UpstreamError('exhausted', 'this instance has no free connections to the model server');
  }
  if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET') return new UpstreamError('network', 'upstream closed the connection unexpectedly');
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new UpstreamError('network', 'upstream host not found');
  return new UpstreamError('network', `upstream request failed: ${error instanceof Error ? error.message : String(error)}`);
}

// Upstreams word their errors differently; the message is what users need to see.
async function errorMessageOf(response: Dispatcher.ResponseData): Promise<string> {
  let text = '';
  try {
    text = (await response.body.text()).slice(0, 2000);
  } catch {
    return `upstream answered HTTP ${response.statusCode}`;
  }
  try {
    const parsed = JSON.parse(text) as { error?: { message?: string } | string; detail?: string; message?: string };
    const message =
      typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.detail ?? parsed.message);
    if (message) return `upstream answered HTTP ${response.statusCode}: ${message}`;
  } catch {
    // Not JSON: fall through to the text.
  }
  return `upstream answered HTTP ${response.statusCode}${text ? `: ${text}` : ''}`;
}
