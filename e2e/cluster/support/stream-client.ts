// A streamed completion saved into a chat, read as a resuming client would:
// when the stream breaks (its instance died, or a 5xx), it asks any instance,
// through nginx, for the rest after the last event id it saw, until `[DONE]`.
import { expectedText } from '../../../packages/fake-llm/src/index.js';
import type { Attempt, Recorder } from './client.js';
import { sleep } from './services.js';

/** One stream as the client lived it. */
export interface StreamRecord {
  phase: string;
  chatId: string;
  prompt: string;
  expected: string;
  generationId?: string;
  /** The start was answered with 200: the stream must end with exactly the expected text. */
  isStarted: boolean;
  /** The answer as the client assembled it: before the break, then each resumed part. */
  text: string;
  ok: boolean;
  /** Resume requests answered with 200. */
  resumes: number;
  /** A resumed part said another instance took the generation over. */
  isTakenOver: boolean;
  /** Every resume attempt's outcome (status, or how it failed). */
  resumeAttempts: Attempt['outcome'][];
  problem?: string;
}

interface ReadState {
  /** Content of every batch up to the last event id seen: a resume replays from there. */
  confirmed: string;
  /** Content after the last id: part of a batch that a resume replays whole. */
  pending: string;
  lastId?: string;
  isDone: boolean;
  error?: string;
  isTakenOver: boolean;
}

const streamTimeoutMs = 30_000;
const streamDeadlineMs = 60_000;
const maxResumeAttempts = 10;

function handleEvent(block: string, state: ReadState): void {
  const lines = block.split('\n');
  const data = lines.filter((line) => line.startsWith('data:')).map((line) => line.slice(5).trim()).join('\n');
  const id = lines.find((line) => line.startsWith('id:'))?.slice(3).trim();
  if (data === '[DONE]') {
    state.confirmed += state.pending;
    state.pending = '';
    state.isDone = true;
    return;
  }
  if (data) {
    const event = JSON.parse(data);
    if (event?.parley?.event === 'takeover') {
      state.isTakenOver = true;
      // The README's rule: a regenerating takeover starts the answer again, so what was shown is dropped.
      if (event.parley.mode === 'regenerate') state.confirmed = state.pending = '';
    }
    if (event?.error) state.error = String(event.error.message ?? JSON.stringify(event.error));
    const content = event?.choices?.[0]?.delta?.content;
    if (typeof content === 'string') state.pending += content;
  }
  if (id !== undefined) {
    state.confirmed += state.pending;
    state.pending = '';
    state.lastId = id;
  }
}

/** Reads an event stream until `[DONE]` or until it breaks; what followed the last id is dropped. */
async function consume(response: Response, state: ReadState): Promise<void> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        handleEvent(buffer.slice(0, end), state);
        buffer = buffer.slice(end + 2);
        if (state.isDone || state.error) {
          await reader.cancel().catch(() => undefined);
          return;
        }
      }
    }
  } catch {
    // Connection reset or cut by nginx: resume from the last id.
  }
  state.pending = '';
}

/**
 * Starts a streamed completion into `chatId` and reads it to the end, resuming
 * as often as needed. The start is retried like any write (connection error,
 * or 503 with Retry-After) and recorded in `recorder` as `completion`.
 */
export async function streamCompletion(
  recorder: Recorder,
  baseUrl: string,
  token: string,
  chatId: string,
  prompt: string,
  tokens: number,
): Promise<StreamRecord> {
  const messages = [{ role: 'user' as const, content: prompt }];
  const record: StreamRecord = {
    phase: recorder.phase,
    chatId,
    prompt,
    expected: expectedText({ model: 'fake-model', messages }, tokens),
    text: '',
    isStarted: false,
    ok: false,
    resumes: 0,
    isTakenOver: false,
    resumeAttempts: [],
  };
  const state: ReadState = { confirmed: '', pending: '', isDone: false, isTakenOver: false };
  const deadline = Date.now() + streamDeadlineMs;
  const headers = { authorization: `Bearer ${token}` };

  const opened: { response?: Response } = {};
  const start = await recorder.send('completion', `${baseUrl}/api/chat/completions`, () => ({
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'fake-model', messages, stream: true, chat_id: chatId, parent_id: null }),
  }), { timeoutMs: streamTimeoutMs, onStream: (response) => (opened.response = response) });
  const started = opened.response;
  if (!start.ok || !started) {
    record.problem = `start failed: ${start.status ?? 'no response'}`;
    return record;
  }
  record.isStarted = true;
  record.generationId = started.headers.get('x-parley-generation-id') ?? undefined;
  await consume(started, state);

  for (let attempt = 0; !state.isDone && !state.error && attempt < maxResumeAttempts && Date.now() < deadline; attempt++) {
    if (!record.generationId) {
      record.problem = 'the stream broke and its response had no x-parley-generation-id to resume with';
      break;
    }
    if (attempt > 0) await sleep(Math.min(2000, 200 * 2 ** attempt));
    let response: Response;
    try {
      response = await fetch(`${baseUrl}/api/chat/completions/${record.generationId}/stream`, {
        headers: { ...headers, ...(state.lastId !== undefined ? { 'last-event-id': state.lastId } : {}) },
        signal: AbortSignal.timeout(streamTimeoutMs),
      });
    } catch (error) {
      record.resumeAttempts.push(error instanceof Error && error.name === 'TimeoutError' ? 'timeout' : 'connection');
      continue;
    }
    record.resumeAttempts.push(response.status);
    if (response.status !== 200) {
      await response.arrayBuffer().catch(() => undefined);
      continue;
    }
    record.resumes++;
    await consume(response, state);
  }
  record.text = state.confirmed;
  record.isTakenOver = state.isTakenOver;
  if (state.error) record.problem = `error event: ${state.error}`;
  else if (!state.isDone) record.problem ??= `no [DONE] after ${record.resumes} resumes (attempts: ${record.resumeAttempts.join(', ')})`;
  else if (record.text !== record.expected) record.problem = 'assembled text differs from the expected answer';
  record.ok = record.problem === undefined;
  return record;
}
