// The load's HTTP client: every request has a timeout, every attempt is recorded,
// and a request is retried only as a careful real client would: after a
// connection error, or a 503 with Retry-After (refused before it was applied,
// or by a draining instance). A retried write may therefore be applied twice
// (a second chat, a second file), never lost.
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
  /** From the first attempt to the final answer, retries and their waits included. */
  ms: number;
}

/** A request's final answer. */
export interface Answer {
  ok: boolean;
  status?: number;
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
}

const maxAttempts = 6;
const requestTimeoutMs = 15_000;

const isTimeout = (error: unknown) => error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');

/** Records every request of the load, by phase. */
export class Recorder {
  readonly ops: OpRecord[] = [];
  phase = 'setup';

  /**
   * Sends a request, retrying under the rule above; `init` is called per attempt
   * (a body is sent afresh). Records the outcome under `kind`.
   */
  async send(kind: string, url: string, init: () => RequestInit, options: SendOptions = {}): Promise<Answer> {
    const timeoutMs = options.timeoutMs ?? requestTimeoutMs;
    const phase = this.phase;
    const started = performance.now();
    const attempts: Attempt[] = [];
    let answer: Answer = { ok: false };
    for (let attempt = 0; attempt < maxAttempts; attempt++) {
      const attemptStarted = performance.now();
      const elapsed = () => performance.now() - attemptStarted;
      let response: Response;
      try {
        response = await fetch(url, { ...init(), signal: AbortSignal.timeout(timeoutMs) });
      } catch (error) {
        const outcome = isTimeout(error) ? 'timeout' : 'connection';
        attempts.push({ outcome, hasRetryAfter: false, ms: elapsed() });
        if (outcome === 'timeout') break;
        await sleep(Math.min(2000, 250 * 2 ** attempt));
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
        break;
      }
      // eslint-disable-next-line @typescript-eslint/no-explicit-any -- parsed JSON, handed on as Answer.body
      let body: any;
      try {
        body = JSON.parse(bytes.toString('utf8'));
      } catch {
        body = undefined;
      }
      const retryAfter = response.headers.get('retry-after');
      const code = typeof body?.code === 'string' ? (body.code as string) : undefined;
      attempts.push({
        outcome: response.status,
        ...(code ? { code } : {}),
        hasRetryAfter: retryAfter !== null,
        ms: elapsed(),
        ...(response.ok ? {} : { body: bytes.toString('utf8').slice(0, 160) }),
      });
      answer = { ok: response.ok, status: response.status, body, bytes, headers: response.headers };
      if (response.ok || response.status !== 503 || retryAfter === null) break;
      if (attempt < maxAttempts - 1) await sleep(Math.min(2000, Math.max(250, Number(retryAfter) * 1000 || 1000)));
    }
    this.ops.push({ phase, kind, ok: answer.ok, attempts, ms: performance.now() - started });
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
