// A bare API client: the official `openai` SDK (its retries, its stream parser)
// asking Parley for a streamed completion that is not saved into a chat, as
// scripts and other apps do. Such a stream cannot be resumed: when it is cut
// mid-answer (its instance died), the application asks again, at most as often
// as the SDK would retry. Every attempt the SDK makes is recorded.
import OpenAI, { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { expectedText } from '../../../packages/fake-llm/src/index.js';
import { SDK_MAX_RETRIES, type Attempt, type Recorder } from './client.js';

/** One relay-only stream as the application lived it. */
export interface RelayRecord {
  phase: string;
  /** performance.now() when the application asked. */
  startedAt: number;
  model: string;
  prompt: string;
  expected: string;
  text: string;
  /** Ended with exactly the model's answer and a finish reason. */
  ok: boolean;
  /** Streams cut mid-answer that the application asked for again. */
  cuts: number;
  /** An error event ended the stream (expected of a poisoned upstream). */
  error?: string;
  /** How the SDK's last attempt ended when the request was refused (retries spent, or not retryable). */
  refusal?: Attempt['outcome'];
  problem?: string;
}

const attemptTimeoutMs = 15_000;
const streamDeadlineMs = 30_000;

/** fetch for the SDK that records each attempt's outcome. */
function recordingFetch(attempts: Attempt[]): typeof fetch {
  return async (input, init) => {
    const started = performance.now();
    try {
      const response = await fetch(input, init);
      attempts.push({ outcome: response.status, hasRetryAfter: response.headers.has('retry-after'), ms: performance.now() - started });
      return response;
    } catch (error) {
      const isTimeout = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      attempts.push({ outcome: isTimeout ? 'timeout' : 'connection', hasRetryAfter: false, ms: performance.now() - started });
      throw error;
    }
  };
}

/** The SDK's error for an `error` event inside a stream (not a status, not a connection failure). */
const isStreamErrorEvent = (error: unknown): error is APIError =>
  error instanceof APIError && error.status === undefined && !(error instanceof APIConnectionError) && !(error instanceof APIUserAbortError);

/**
 * Streams a relay-only completion through `baseUrl` (nginx) with the SDK,
 * asking again after a cut; recorded in `recorder` as one request of `kind`.
 */
export async function relayCompletion(
  recorder: Recorder,
  baseUrl: string,
  token: string,
  prompt: string,
  tokens: number,
  model = 'fake-model',
  kind = 'relay',
): Promise<RelayRecord> {
  const messages = [{ role: 'user' as const, content: prompt }];
  const record: RelayRecord = { phase: recorder.phase, startedAt: performance.now(), model, prompt, expected: expectedText({ model, messages }, tokens), text: '', ok: false, cuts: 0 };
  const attempts: Attempt[] = [];
  const client = new OpenAI({ baseURL: `${baseUrl}/api`, apiKey: token, maxRetries: SDK_MAX_RETRIES, timeout: attemptTimeoutMs, fetch: recordingFetch(attempts) });
  for (let ask = 0; ask <= SDK_MAX_RETRIES && !record.ok && !record.error; ask++) {
    let isStarted = false;
    let text = '';
    let finish: string | null = null;
    try {
      const stream = await client.chat.completions.create({ model, messages, stream: true }, { signal: AbortSignal.timeout(streamDeadlineMs) });
      isStarted = true;
      for await (const chunk of stream) {
        // A poisoned upstream's `null` may be relayed as is: the SDK hands it over.
        const choice = (chunk as OpenAI.ChatCompletionChunk | null)?.choices?.[0];
        if (typeof choice?.delta?.content === 'string') text += choice.delta.content;
        finish ??= choice?.finish_reason ?? null;
      }
      record.text = text;
      if (finish === null) {
        // The body ended without a finish reason or [DONE]: cut as cleanly as a proxy may cut it.
        record.cuts++;
        record.problem = 'the stream ended without a finish reason';
        continue;
      }
      record.ok = text === record.expected;
      record.problem = record.ok ? undefined : 'the streamed text differs from the model answer';
      break;
    } catch (error) {
      record.text = text;
      if (isStreamErrorEvent(error)) {
        record.error = error.message;
        record.problem = `error event: ${error.message}`;
      } else if (isStarted) {
        record.cuts++;
        record.problem = `cut mid-answer: ${String(error)}`;
      } else {
        // The SDK's own retries are spent (or the answer was not retryable).
        record.problem = `refused: ${String(error)}`;
        const last = attempts.at(-1)?.outcome;
        if (last !== undefined) record.refusal = last;
        break;
      }
    }
  }
  recorder.record({ phase: record.phase, kind, ok: record.ok, attempts, startedAt: record.startedAt, ms: performance.now() - record.startedAt });
  return record;
}
