import { isDatabaseUnavailable } from '../../platform/db/errors.js';
import type { Platform } from '../../platform/platform.js';
import type { AnalyticsService } from '../analytics/analytics.service.js';
import type { ChatsService } from '../chats/chats.service.js';
import type { EventsService } from '../events/events.service.js';
import type { GenerationOutcome } from './generation.js';
import type { GenerationLog } from './generation-log.js';
import { failureKindOf } from './upstream-failures.js';

/** The answer whose end is recorded: who asked, for which model, through which connection, where it is saved. */
export interface EndedAnswer {
  id: string;
  userId: string;
  /** The model id the client asked for. */
  model: string;
  /** Null when no longer known (an answer whose instance died with its log). */
  connectionId: string | null;
  upstreamModel: string | null;
  /** Where the answer is saved; absent for an answer that is not saved in a chat. */
  chat?: { chatId: string; assistantMessageId: string };
}

/** How an answer came to its end; decides which of the records below apply. */
export type AnswerEnding =
  /**
   * Streamed on this instance to its end: done, stopped, or broken off. `onSaved` runs once the
   * answer is saved, before usage, metrics and events, so its client hears the end no later.
   */
  | { kind: 'streamed'; lastSeq: number; onSaved: () => void }
  /** The upstream refused a new answer before streaming it. */
  | { kind: 'refused'; error: unknown }
  /** The upstream refused to continue an answer taken over from an instance that died. */
  | { kind: 'takeover-refused'; error: unknown; lastSeq: number }
  /** The answer was taken over as often as its budget allows: it ends without asking the model again. */
  | { kind: 'takeover-exhausted'; lastSeq: number }
  /** Its instance died and its log expired with it: nothing can continue it. */
  | { kind: 'interrupted' }
  /** It ended earlier but could not be saved then (the database away); saved now from its log. */
  | { kind: 'resaved'; lastSeq: number };

/** Records an answer's end; resolves to false when it could not be saved (see createAnswerEndRecorder). */
export type RecordAnswerEnd = (answer: EndedAnswer, outcome: GenerationOutcome, ending: AnswerEnding) => Promise<boolean>;

/** The outcome of an answer that failed without streaming (further); `content` is what it had so far. */
export function failedOutcome(error: string, durationMs: number, content = ''): GenerationOutcome {
  return { content, status: 'error', error, isStopped: false, finishReason: null, usage: null, ttftMs: null, durationMs };
}

/** What a saved answer's `info` holds, the same fields however it ended (null where unknown). */
function answerInfo(answer: EndedAnswer, outcome: GenerationOutcome): Record<string, unknown> {
  const completionTokens = outcome.usage?.completion_tokens ?? 0;
  const streamMs = outcome.durationMs - (outcome.ttftMs ?? 0);
  return {
    ttft_ms: outcome.ttftMs,
    duration_ms: outcome.durationMs,
    tokens_per_second: streamMs > 0 && completionTokens > 0 ? Math.round((completionTokens / streamMs) * 10_000) / 10 : null,
    finish_reason: outcome.finishReason,
    stopped: outcome.isStopped,
    connection_id: answer.connectionId,
    upstream_model: answer.upstreamModel,
  };
}

const saveAttempts = 6;

/** How saving went: saved (as it ended, or as the failure to save it), or not saved; `isFinal`: never will be. */
type SaveResult = { kind: 'saved'; outcome: GenerationOutcome } | { kind: 'unsaved'; isFinal: boolean; error: unknown };

// SQLSTATEs of a write that lost a race or ran out of time: serialization failure, deadlock, too many
// connections, lock not available, statement cancelled.
const transientSqlStates = new Set(['40001', '40P01', '53300', '55P03', '57014']);

/**
 * True for a failure the same write may not meet again: the database away, or a lost race. Anything else
 * (invalid byte sequence, a violated constraint, …) would fail every time.
 */
function isRetryable(error: unknown): boolean {
  if (isDatabaseUnavailable(error)) return true;
  const { code, statusCode, name } = (error ?? {}) as { code?: unknown; statusCode?: unknown; name?: unknown };
  if (typeof code === 'string' && transientSqlStates.has(code)) return true;
  // The database layer's own "unavailable" errors (503 when it fails fast).
  return statusCode === 503 || (typeof name === 'string' && /unavailable/i.test(name));
}

/**
 * The one way an answer ends, whatever ended it: saves it into its chat (text, status, usage, info),
 * counts it in usage analytics and metrics, logs its end for resuming clients and tells the user's tabs.
 */
export function createAnswerEndRecorder(
  platform: Platform,
  { chats, events, analytics, generationLog }: { chats: ChatsService; events: EventsService; analytics: AnalyticsService; generationLog: GenerationLog },
): RecordAnswerEnd {
  const { log, metrics } = platform;

  async function write(chat: NonNullable<EndedAnswer['chat']>, answer: EndedAnswer, outcome: GenerationOutcome): Promise<void> {
    const record = { content: outcome.content, status: outcome.status, error: outcome.error, usage: outcome.usage, info: answerInfo(answer, outcome) };
    await chats.finishAnswer(chat.chatId, chat.assistantMessageId, record);
  }

  /**
   * Saves the answer; a streamed one retries through a short database outage while its lease is held.
   * An error no retry can fix (invalid data, a constraint) is final: the answer is saved as that error
   * instead, and never tried again nor taken over (which would ask the model again, for nothing).
   */
  async function save(chat: NonNullable<EndedAnswer['chat']>, answer: EndedAnswer, outcome: GenerationOutcome, attempts: number): Promise<SaveResult> {
    for (let attempt = 1; ; attempt++) {
      try {
        await write(chat, answer, outcome);
        return { kind: 'saved', outcome };
      } catch (error) {
        if (!isRetryable(error)) return saveFailure(chat, answer, outcome, error);
        if (attempt >= attempts) return { kind: 'unsaved', isFinal: false, error };
        log.warn({ err: error, generation: answer.id, attempt }, 'saving a finished answer failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
  }

  async function saveFailure(chat: NonNullable<EndedAnswer['chat']>, answer: EndedAnswer, outcome: GenerationOutcome, cause: unknown): Promise<SaveResult> {
    log.error({ err: cause, generation: answer.id }, 'the answer cannot be saved; saving the failure instead');
    const failure: GenerationOutcome = { ...outcome, content: '', status: 'error', error: `The answer could not be saved: ${errorMessage(cause)}` };
    try {
      await write(chat, answer, failure);
      return { kind: 'saved', outcome: failure };
    } catch (error) {
      return { kind: 'unsaved', isFinal: true, error };
    }
  }

  function measure(answer: EndedAnswer, outcome: GenerationOutcome, ending: AnswerEnding): void {
    // Counted when it ended.
    if (ending.kind === 'resaved') return;
    const connection = answer.connectionId ?? 'unknown';
    const labels = { model: answer.model, connection };
    if (ending.kind === 'streamed') metrics.activeStreams.dec();
    if (ending.kind === 'refused' || ending.kind === 'takeover-refused') metrics.upstreamErrors.inc({ connection, kind: failureKindOf(ending.error) });
    // A refused answer never started, so it never finished either: upstream attempts are started + refused.
    if (ending.kind !== 'refused') {
      metrics.generationsFinished.inc({ ...labels, outcome: outcome.isStopped ? 'stopped' : outcome.status });
      if (outcome.status === 'error') metrics.generationsFailed.inc(labels);
    }
    if (ending.kind === 'streamed') {
      if (outcome.status === 'error') metrics.upstreamErrors.inc({ connection, kind: 'midstream' });
      metrics.generationDuration.observe({ model: answer.model }, outcome.durationMs / 1000);
    }
    if (outcome.ttftMs !== null) metrics.ttft.observe({ model: answer.model }, outcome.ttftMs / 1000);
    if (outcome.usage) {
      metrics.tokens.inc({ model: answer.model, direction: 'in' }, outcome.usage.prompt_tokens);
      metrics.tokens.inc({ model: answer.model, direction: 'out' }, outcome.usage.completion_tokens);
    }
  }

  /**
   * Never rejects. An answer that could not be saved for a passing reason (the database away) is not counted
   * in usage and logs no end but an `unsaved` entry: once its lease lapses the sweeper finds it unfinished,
   * and whoever takes it over saves it from its log (see takeover.ts); that end is recorded then. One that
   * can never be saved logs its end, so nobody takes it over.
   */
  return async function recordAnswerEnd(answer, outcome, ending) {
    let result: SaveResult = { kind: 'saved', outcome };
    try {
      if (answer.chat) result = await save(answer.chat, answer, outcome, ending.kind === 'streamed' ? saveAttempts : 1);
    } catch (error) {
      result = { kind: 'unsaved', isFinal: false, error };
    } finally {
      if (ending.kind === 'streamed') ending.onSaved();
    }
    if (result.kind === 'unsaved') log.error({ err: result.error, generation: answer.id }, 'failed to save a finished answer');
    try {
      measure(answer, outcome, ending);
      // Logged after saving, so a client told "end" finds the answer in the chat.
      if (answer.chat && (result.kind === 'saved' || result.isFinal)) logEnd(answer.id, result.kind === 'saved' ? result.outcome : outcome, ending);
      else if (answer.chat) logUnsaved(answer.id, outcome, ending);
      if (result.kind === 'unsaved') return false;
      const saved = result.outcome;
      const status = saved.isStopped ? 'stopped' : saved.status;
      await analytics.recordAnswer({ userId: answer.userId, model: answer.model, connectionId: answer.connectionId, usage: saved.usage, ttftMs: saved.ttftMs, durationMs: saved.durationMs, status });
      if (!answer.chat) return true;
      events.publish(answer.userId, { type: 'answer:done', chat_id: answer.chat.chatId, message_id: answer.chat.assistantMessageId, status: saved.status });
    } catch (error) {
      log.error({ err: error, generation: answer.id }, 'failed to record the end of an answer (metrics, usage or events)');
    }
    return result.kind === 'saved';
  };

  /** Ends the answer's log for resuming clients (an interrupted answer has no log left to end). */
  function logEnd(id: string, outcome: GenerationOutcome, ending: AnswerEnding): void {
    if (ending.kind === 'interrupted') return;
    const lastSeq = ending.kind === 'refused' ? 0 : ending.lastSeq;
    generationLog.append(id, { seq: lastSeq, kind: 'end', outcome: { status: outcome.status, error: outcome.error, isStopped: outcome.isStopped } });
  }

  /** Notes in the log how the answer ended, for the instance that saves it once the database is back. */
  function logUnsaved(id: string, { content: _content, ...outcome }: GenerationOutcome, ending: AnswerEnding): void {
    // A resaved answer has its note already.
    if (ending.kind === 'interrupted' || ending.kind === 'resaved') return;
    generationLog.append(id, { seq: ending.kind === 'refused' ? 0 : ending.lastSeq, kind: 'unsaved', outcome });
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
