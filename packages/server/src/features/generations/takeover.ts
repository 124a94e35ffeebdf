import type { UpstreamClient, UpstreamTimeouts } from '../../platform/llm/upstream-client.js';
import type { ChatRequest, UpstreamTarget } from '../../platform/llm/types.js';
import type { Platform } from '../../platform/platform.js';
import type { ConnectionsService } from '../connections/connections.service.js';
import type { ModelsService } from '../models/models.service.js';
import { failedOutcome, type RecordAnswerEnd } from './answer-end.js';
import type { GenerationListener, GenerationOutcome } from './generation.js';
import { takeoverBudget, type GenerationLog, type GenerationRecord, type LogEntry, type TakeoverMode } from './generation-log.js';
import type { GenerationRunner } from './generation-runner.js';

export interface TakeoverDeps {
  generationLog: GenerationLog;
  models: ModelsService;
  connections: ConnectionsService;
  upstream: UpstreamClient;
  timeouts: UpstreamTimeouts;
  runner: GenerationRunner;
  recordAnswerEnd: RecordAnswerEnd;
}

const silent: GenerationListener = { onEvents: () => undefined, onEnd: () => undefined };

/**
 * The answer a log holds so far and its last batch number. A regenerating takeover started the text
 * afresh, so only what came after the last one counts.
 */
export function partialAnswer(entries: ReadonlyArray<{ entry: LogEntry }>): { content: string; lastSeq: number } {
  let content = '';
  let lastSeq = 0;
  for (const { entry } of entries) {
    lastSeq = Math.max(lastSeq, entry.seq);
    if (entry.kind === 'takeover' && entry.mode === 'regenerate') content = '';
    else if (entry.kind === 'events') for (const event of entry.events) if (event.type === 'delta') content += event.content;
  }
  return { content, lastSeq };
}

/**
 * The request that finishes the answer. Continuing sends the partial answer as a trailing assistant
 * message; an OpenAI-compatible upstream also gets vLLM's flags for continuing it (llama.cpp's server
 * continues such a message by itself and ignores them). Nothing to continue: the request as it was.
 */
function takeoverRequest(request: ChatRequest, target: UpstreamTarget, mode: TakeoverMode, content: string): ChatRequest {
  if (mode === 'regenerate' || content === '') return request;
  const messages: ChatRequest['messages'] = [...request.messages, { role: 'assistant', content }];
  const extra = target.type === 'openai' ? { ...request.extra, continue_final_message: true, add_generation_prompt: false } : request.extra;
  return { ...request, messages, extra };
}

/** Builds `takeOver(id)`: continues here a generation whose instance stopped renewing its lease. */
export function createTakeover(platform: Platform, { generationLog, models, connections, upstream, timeouts, runner, recordAnswerEnd }: TakeoverDeps) {
  const { clock, config, log, metrics } = platform;

  /** Saves an answer that ended but could not be saved then, from its log: the model is not asked again. */
  async function saveFromLog(record: GenerationRecord, outcome: Omit<GenerationOutcome, 'content'>, content: string, lastSeq: number): Promise<void> {
    log.info({ generation: record.info.id }, 'saving an answer that ended unsaved, from its log');
    await recordAnswerEnd(record.info, { ...outcome, content }, { kind: 'resaved', lastSeq });
  }

  /** Ends the answer without asking the model again: it was taken over as often as its budget allows. */
  async function giveUp(record: GenerationRecord, content: string, lastSeq: number): Promise<void> {
    log.warn({ generation: record.info.id, budget: takeoverBudget }, 'generation out of takeovers; ending it as failed');
    const message = `The answer was interrupted ${takeoverBudget + 1} times (its servers stopped) and was given up`;
    await recordAnswerEnd(record.info, failedOutcome(message, clock.now() - record.startedAt, content), { kind: 'takeover-exhausted', lastSeq });
  }

  /** Asks the upstream to finish the answer and runs it here; a refusal ends the answer as failed. */
  async function resume(record: GenerationRecord, content: string, lastSeq: number, releaseLease: () => void): Promise<void> {
    const { info } = record;
    let target: UpstreamTarget & { id: string };
    let mode: TakeoverMode;
    let stream;
    try {
      const resolved = await models.resolve(info.model);
      target = resolved.connection;
      // The operator's override, else what this connection's upstream is known to do with a partial answer.
      mode = config.GENERATION_TAKEOVER_MODE ?? (await connections.takeoverMode(target.id));
      log.info({ generation: info.id, partialChars: content.length, mode }, 'taking over an abandoned generation');
      generationLog.append(info.id, { seq: lastSeq, kind: 'takeover', mode });
      stream = await upstream.streamChat(target, takeoverRequest(record.request, target, mode, content), timeouts);
    } catch (error) {
      const outcome = failedOutcome(`could not continue the answer: ${String(error)}`, clock.now() - record.startedAt, content);
      await recordAnswerEnd(info, outcome, { kind: 'takeover-refused', error, lastSeq });
      releaseLease();
      return;
    }
    const kept = mode === 'continue' ? content : '';
    runner.launch(info, record.request, target, stream, silent, { startedAt: record.startedAt, content: kept, lastSeq, releaseLease });
    metrics.takeovers.inc();
  }

  /**
   * The upstream is asked to continue the partial answer from the log, or (mode `regenerate`, for
   * upstreams that cannot continue) to answer afresh. False when another instance got there first
   * or there is nothing to continue. Past its takeover budget, the answer ends as failed instead; an
   * answer that ended but could not be saved is saved from the log.
   */
  return async function takeOver(id: string): Promise<boolean> {
    if (runner.local(id) || !(await generationLog.claim(id))) return false;
    // Held from here: asking the upstream again may take longer than the lease.
    const releaseLease = generationLog.holdLease(id);
    try {
      const record = await generationLog.record(id);
      const entries = await generationLog.read(id, null, 0);
      if (!record || entries.some(({ entry }) => entry.kind === 'end')) {
        releaseLease();
        return false;
      }
      const { content, lastSeq } = partialAnswer(entries);
      const unsaved = entries.findLast(({ entry }) => entry.kind === 'unsaved')?.entry;
      if (unsaved?.kind === 'unsaved') {
        await saveFromLog(record, unsaved.outcome, content, lastSeq);
        releaseLease();
        return true;
      }
      const { isAllowed } = await generationLog.countTakeover(id);
      if (!isAllowed) {
        await giveUp(record, content, lastSeq);
        releaseLease();
        return true;
      }
      await resume(record, content, lastSeq, releaseLease);
      return true;
    } catch (error) {
      // Shared state failed us midway: the lease lapses and another sweep tries again.
      releaseLease();
      throw error;
    }
  };
}

export type TakeOver = ReturnType<typeof createTakeover>;
