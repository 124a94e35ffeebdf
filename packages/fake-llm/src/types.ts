import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Reply } from './determinism.js';

/** Behaviour of a fake model server; everything but port and host can change at run time. */
export interface FakeLlmOptions {
  /** TCP port to listen on; 0 picks a free one. */
  port: number;
  /** Interface to bind; 127.0.0.1 keeps the fake off the network. */
  host: string;
  /** Delay before the first token (time to first token), in milliseconds. */
  ttftMs: number;
  /** Delay between two tokens, in milliseconds; 0 writes as fast as the socket takes them. */
  tokenMs: number;
  /** Length of a full answer in tokens; max_tokens can only shorten it. */
  tokens: number;
  /** How long the `slow-headers` model waits before sending the response headers. */
  slowHeadersMs: number;
  /**
   * What the OpenAI chat route does with a trailing assistant message (a partial answer to continue):
   * `continue` it (llama.cpp's server does; the default), `restart` the answer from its beginning (OpenAI's
   * API does), or `vllm`: continue only when the request says `continue_final_message: true`, as vLLM does.
   * Ollama's routes always continue, as Ollama does.
   */
  openaiContinuation: OpenAiContinuation;
  /** How many bytes the `poison-huge-line` model sends in its one line without end (unless the client leaves first). */
  hugeLineBytes: number;
  /** When set, OpenAI routes require `Authorization: Bearer <apiKey>`. */
  apiKey?: string | undefined;
  /**
   * Also accept cleartext HTTP/2 with prior knowledge on the port. Off by default: telling the
   * protocols apart reads each connection's first bytes in JavaScript, which takes Node's
   * HTTP/1.1 parser off its native fast path and would slow every benchmark baseline.
   */
  h2c?: boolean;
}

/** See FakeLlmOptions.openaiContinuation. */
export type OpenAiContinuation = 'continue' | 'restart' | 'vllm';

/** Options a running server accepts through setOptions (the socket is already bound). */
export type FakeLlmOptionsPatch = Partial<Omit<FakeLlmOptions, 'port' | 'host'>>;

/** Defaults used for any option left out. */
export const DEFAULT_OPTIONS: Readonly<FakeLlmOptions> = Object.freeze({
  port: 0,
  host: '127.0.0.1',
  ttftMs: 0,
  tokenMs: 0,
  tokens: 24,
  slowHeadersMs: 3000,
  openaiContinuation: 'continue',
  hugeLineBytes: 300 * 1024 * 1024,
});

/** One request as the fake saw it, kept so tests can assert what an upstream client sent. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  /** '1.1', or '2.0' for HTTP/2. */
  httpVersion: string;
  /** The client's port: requests that share a connection share it. */
  remotePort: number | undefined;
  headers: IncomingHttpHeaders;
  /** Parsed JSON body; undefined when there was none or it was not valid JSON. */
  body: unknown;
}

/** A running fake model server. */
export interface FakeLlm {
  /** Base URL, e.g. http://127.0.0.1:41234 (append /v1 for OpenAI clients). */
  url: string;
  port: number;
  /** The last 200 requests, oldest first; tests may clear it with `requests.length = 0`. */
  requests: RecordedRequest[];
  /** Current options (a snapshot is taken by each request when it starts). */
  readonly options: Readonly<FakeLlmOptions>;
  /** Changes pacing, answer length, api key... for requests that start afterwards. */
  setOptions(patch: FakeLlmOptionsPatch): void;
  /** Stops listening and cuts every open connection, including stalled streams. */
  close(): Promise<void>;
}

/** Which error and listing formats a route speaks. */
export type Dialect = 'openai' | 'ollama';

/** What a route handler receives for one request. */
export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  /** Parsed JSON body, undefined when absent or invalid. */
  body: unknown;
  /** Options as they were when the request arrived, so a setOptions mid-stream cannot tear it. */
  options: Readonly<FakeLlmOptions>;
  /** Aborts when the client goes away (or the response is over); every wait listens to it. */
  signal: AbortSignal;
  /** process.hrtime.bigint() at arrival, for Ollama's nanosecond durations. */
  startedAt: bigint;
}

/** How one wire format serialises an answer; built per request so frames share a precomputed head. */
export interface GenerationFormat {
  dialect: Dialect;
  contentType: string;
  /** One streamed token; index 0 is the first of the answer. */
  frame(token: string, index: number): string;
  /** Everything that closes a finished stream (finish chunk, usage, [DONE] / final NDJSON line). */
  tail(reply: Reply): string;
  /** What error-midstream sends before ending the response. */
  errorFrame: string;
  /** The body of a non-streamed answer. */
  whole(reply: Reply): unknown;
}
