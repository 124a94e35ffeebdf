import type { UpstreamClient, UpstreamTimeouts } from '../../platform/llm/upstream-client.js';
import type { ChatRequest } from '../../platform/llm/types.js';
import type { Platform } from '../../platform/platform.js';
import type { ModelsService } from '../models/models.service.js';
import { failedOutcome, type RecordAnswerEnd } from './answer-end.js';
import type { GenerationListener } from './generation.js';
import type { GenerationLog } from './generation-log.js';
import type { GenerationRunner } from './generation-runner.js';

export interface TakeoverDeps {
  generationLog: GenerationLog;
  models: ModelsService;
  upstream: UpstreamClient;
  timeouts: UpstreamTimeouts;
  runner: GenerationRunner;
  recordAnswerEnd: RecordAnswerEnd;
}

const silent: GenerationListener = { onEvents: () => undefined, onEnd: () => undefined };

/** Builds `takeOver(id)`: continues here a generation whose instance stopped renewing its lease. */
export function createTakeover(platform: Platform, { generationLog, models, upstream, timeouts, runner, recordAnswerEnd }: TakeoverDeps) {
  const { clock, config, log, metrics } = platform;

  /**
   * The upstream is asked to continue the partial answer from the log, or (mode `regenerate`, for
   * upstreams that cannot continue) to answer afresh. False when another instance got there first
   * or there is nothing to continue.
   */
  return async function takeOver(id: string): Promise<boolean> {
    if (runner.local(id) || !(await generationLog.claim(id))) return false;
    const record = await generationLog.record(id);
    const entries = await generationLog.read(id, null, 0);
    if (!record || entries.some(({ entry }) => entry.kind === 'end')) {
      await generationLog.release(id);
      return false;
    }
    let content = '';
    let lastSeq = 0;
    for (const { entry } of entries) {
      lastSeq = Math.max(lastSeq, entry.seq);
      if (entry.kind === 'events') for (const event of entry.events) if (event.type === 'delta') content += event.content;
    }
    const mode = config.GENERATION_TAKEOVER_MODE;
    log.info({ generation: id, partialChars: content.length, mode }, 'taking over an abandoned generation');
    if (mode === 'regenerate') content = '';
    const resolved = await models.resolve(record.info.model);
    const request: ChatRequest =
      mode === 'continue' ? { ...record.request, messages: [...record.request.messages, { role: 'assistant', content }] } : record.request;
    generationLog.append(id, { seq: lastSeq, kind: 'takeover', mode });
    let stream;
    try {
      stream = await upstream.streamChat(resolved.connection, request, timeouts);
    } catch (error) {
      const outcome = failedOutcome(`could not continue the answer: ${String(error)}`, clock.now() - record.startedAt, content);
      await recordAnswerEnd(record.info, outcome, { kind: 'takeover-refused', error, lastSeq });
      await generationLog.release(id);
      return true;
    }
    runner.launch(record.info, record.request, resolved.connection, stream, silent, { startedAt: record.startedAt, content, lastSeq });
    metrics.takeovers.inc();
    return true;
  };
}

export type TakeOver = ReturnType<typeof createTakeover>;
