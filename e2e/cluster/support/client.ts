// The load's HTTP client. Every request has a timeout, every attempt is
// recorded, and a request is retried as the official `openai` SDK (v6) retries
// (node_modules/openai/client.js, `shouldRetry` and `retryRequest`): at most two
// retries, after a connection error or timeout, or an answer 408, 409, 429 or
// 5xx (or `x-should-retry: true`); it waits what `retry-after-ms` or
// `Retry-After` asks, otherwise 0.5 s then 1 s less up to 25 % jitter. A cut
// body is not retried: whether the request was applied is unknown. A retried
// write may therefore be applied twice (a second chat, a second file), never lost.
import { sleep } from './services.js';

/** How one attempt ended: an HTTP status, or no response at all. */
export type Outcome = number | 'connection' | 'timeout' | 'body';

/** One attempt of a request. */
export interface Attempt {
  outcome: Outcome;
  /** The `code` of a JSON error body. */
  code?: string;
  hasRetryAfter: boolean;
  ms: number;
  /** The start of a non-2xx answer's body, for the report. */
  body?: string;
}

/** One logical request (with its retries) as the load saw it. */
export interface OpRecord {
  phase: string;
  kind: string;
  ok: boolean;
  attempts: Attempt[];
  /** performance.now() at the first attempt. */
  startedAt: number;
  /** From the first attempt to the final answer, retries and their waits included. */
  ms: number;
}

/** A request's final answer. */
export interface Answer {
  ok: boolean;
  status?: number;
  /** How the last attempt ended. */
  outcome?: Outcome;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON of many shapes; each caller reads the fields it asserts on
  body?: any;
  bytes?: Buffer;
  headers?: Headers;
}

/** Per-request options of `Recorder.send`. */
export interface SendOptions {
  /** Client timeout of each attempt, body included (15 s by default). */
  timeoutMs?: number;
  /** Takes a 2xx response whose body is a stream, unread. */
  onStream?: (response: Response) => void;
  /** Not part of the load (read-backs, probes): not recorded. */
  isUnrecorded?: boolean;
}

/** The SDK's `maxRetries` default. */
export const SDK_MAX_RETRIES = 2;
const requestTimeoutMs = 15_000;

const isTimeout = (error: unknown) => error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');

/** The SDK's `shouldRetry` for an answer. */
export function isRetryableStatus(status: number, headers: Headers): boolean {
  const says = headers.get('x-should-retry');
  if (says === 'true') return true;
  if (says === 'false') return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** The SDK's wait before retry number `retry` (0-based): what the server asks, else 0.5 s · 2^retry less jitter. */
export function sdkRetryDelayMs(retry: number, headers?: Headers): number {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (!Number.isNaN(ms)) return ms;
  const retryAfter = headers?.get('retry-after');
  if (retryAfter) {
    const secondsAfter = Number.parseFloat(retryAfter);
    return Number.isNaN(secondsAfter) ? Date.parse(retryAfter) - Date.now() : secondsAfter * 1000;
  }
  return Math.min(0.5 * 2 ** retry, 8) * (1 - Math.random() * 0.25) * 1000;
}

/** Records every request of the load, by phase. */
export class Recorder {
  readonly ops: OpRecord[] = [];
  phase = 'setup';

  /** Records a logical request made elsewhere (a stream read by the SDK itself). */
  record(op: OpRecord): void {
    this.ops.push(op);
  }

  /**
   * Sends a request, retrying as the SDK does; `init` is called per attempt
   * (a body is sent afresh). Records the outcome under `kind`.
   */
  async send(kind: string, url: string, init: () => RequestInit, options: SendOptions = {}): Promise<Answer> {
    const timeoutMs = options.timeoutMs ?? requestTimeoutMs;
    const phase = this.phase;
    const started = performance.now();
    const attempts: Attempt[] = [];
    let answer: Answer = { ok: false };
    for (let retry = 0; ; retry++) {
      const canRetry = retry < SDK_MAX_RETRIES;
      const attemptStarted = performance.now();
      const elapsed = () => performance.now() - attemptStarted;
      let response: Response;
      try {
        response = await fetch(url, { ...init(), signal: AbortSignal.timeout(timeoutMs) });
      } catch (error) {
        attempts.push({ outcome: isTimeout(error) ? 'timeout' : 'connection', hasRetryAfter: false, ms: elapsed() });
        if (!canRetry) break;
        await sleep(sdkRetryDelayMs(retry));
        continue;
      }
      if (response.ok && options.onStream) {
        // A stream: the caller reads the body; the request counts as answered once its status arrived.
        attempts.push({ outcome: response.status, hasRetryAfter: false, ms: elapsed() });
        options.onStream(response);
        answer = { ok: true, status: response.status, headers: response.headers };
        break;
      }
      let bytes: Buffer;
      try {
        bytes = Buffer.from(await response.arrayBuffer());
      } catch (error) {
        // The answer was cut after its status line: whether it was applied is unknown, so no retry.
        attempts.push({ outcome: isTimeout(error) ? 'timeout' : 'body', hasRetryAfter: false, ms: elapsed() });
        answer = { ok: false };
        break;
      }
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON, handed on as Answer.body
      let body: any;
      try {
        body = JSON.parse(bytes.toString('utf8'));
      } catch {
        body = undefined;
      }
      const code = typeof body?.code === 'string' ? (body.code as string) : undefined;
      attempts.push({
        outcome: response.status,
        ...(code ? { code } : {}),
        hasRetryAfter: response.headers.has('retry-after'),
        ms: elapsed(),
        ...(response.ok ? {} : { body: bytes.toString('utf8').slice(0, 160) }),
      });
      answer = { ok: response.ok, status: response.status, body, bytes, headers: response.headers };
      if (response.ok || !canRetry || !isRetryableStatus(response.status, response.headers)) break;
      await sleep(sdkRetryDelayMs(retry, response.headers));
    }
    answer.outcome = attempts.at(-1)?.outcome;
    if (!options.isUnrecorded) this.ops.push({ phase, kind, ok: answer.ok, attempts, startedAt: started, ms: performance.now() - started });
    return answer;
  }
}

/** A JSON request's init: method, bearer token and body. */
export function jsonInit(method: string, token: string | undefined, body?: unknown): () => RequestInit {
  return () => ({
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}
