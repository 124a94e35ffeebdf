import type { UpstreamClient, UpstreamTimeouts } from '../../platform/llm/upstream-client.js';
import type { UpstreamStream } from '../../platform/llm/upstream-stream.js';
import type { ChatRequest, UpstreamTarget } from '../../platform/llm/types.js';
import type { Platform } from '../../platform/platform.js';
import type { AnalyticsService } from '../analytics/analytics.service.js';
import type { ChatsService } from '../chats/chats.service.js';
import type { EventsService } from '../events/events.service.js';
import type { ModelsService } from '../models/models.service.js';
import type { SettingsService } from '../settings/settings.service.js';
import { Generation, type GenerationInfo, type GenerationListener, type GenerationOutcome, type GenerationStart } from './generation.js';
import type { GenerationLog } from './generation-log.js';
import { generateTitle } from './title.js';

export interface RunnerDeps {
  events: EventsService;
  models: ModelsService;
  chats: ChatsService;
  settings: SettingsService;
  upstream: UpstreamClient;
  generationLog: GenerationLog;
  timeouts: UpstreamTimeouts;
  analytics: AnalyticsService;
}

const silent: GenerationListener = { onEvents: () => undefined, onEnd: () => undefined };
const noLease = () => undefined;

/**
 * Runs generations to their end on this instance: relays, logs (for resume),
 * holds their leases, saves answers, and takes over generations whose
 * instance died.
 */
export function createGenerationRunner(platform: Platform, deps: RunnerDeps) {
  const { clock, lifecycle, log, metrics } = platform;
  const { chats, events, settings, upstream, generationLog, timeouts } = deps;
  const running = new Map<string, Generation>();

  async function saveAnswer(info: GenerationInfo, outcome: GenerationOutcome): Promise<void> {
    if (!info.chat) return;
    const completionTokens = outcome.usage?.completion_tokens ?? 0;
    const streamMs = outcome.durationMs - (outcome.ttftMs ?? 0);
    await chats.finishAnswer(info.chat.chatId, info.chat.assistantMessageId, {
      content: outcome.content,
      status: outcome.status,
      error: outcome.error,
      usage: outcome.usage,
      info: {
        ttft_ms: outcome.ttftMs,
        duration_ms: outcome.durationMs,
        tokens_per_second: streamMs > 0 && completionTokens > 0 ? Math.round((completionTokens / streamMs) * 10_000) / 10 : null,
        finish_reason: outcome.finishReason,
        stopped: outcome.isStopped,
        connection_id: info.connectionId,
        upstream_model: info.upstreamModel,
      },
    });
  }

  function measure(info: GenerationInfo, outcome: GenerationOutcome): void {
    const labels = { model: info.model, connection: info.connectionId };
    metrics.activeStreams.dec();
    metrics.generationsFinished.inc({ ...labels, outcome: outcome.isStopped ? 'stopped' : outcome.status });
    if (outcome.status === 'error') {
      metrics.generationsFailed.inc(labels);
      metrics.upstreamErrors.inc({ connection: info.connectionId, kind: 'midstream' });
    }
    if (outcome.ttftMs !== null) metrics.ttft.observe({ model: info.model }, outcome.ttftMs / 1000);
    metrics.generationDuration.observe({ model: info.model }, outcome.durationMs / 1000);
    if (outcome.usage) {
      metrics.tokens.inc({ model: info.model, direction: 'in' }, outcome.usage.prompt_tokens);
      metrics.tokens.inc({ model: info.model, direction: 'out' }, outcome.usage.completion_tokens);
    }
  }

  /** Saves the answer, retrying through a short database outage while the lease is still held. */
  async function saveWithRetries(info: GenerationInfo, outcome: GenerationOutcome): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await saveAnswer(info, outcome);
      } catch (error) {
        if (attempt >= 6) throw error;
        log.warn({ err: error, generation: info.id, attempt }, 'saving a finished answer failed; retrying');
        await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
      }
    }
  }

  /**
   * Runs once the answer is saved and its client has been told the end. An answer that could not
   * be saved logs no end, so once its lease lapses the sweeper finds it unfinished and retries.
   * Never rejects, and lets the lease go whatever happens.
   */
  async function finish(info: GenerationInfo, generation: Generation, outcome: GenerationOutcome, target: UpstreamTarget, request: ChatRequest, isSaved: boolean, releaseLease: () => void) {
    try {
      running.delete(info.id);
      measure(info, outcome);
      if (!isSaved) return;
      await deps.analytics.recordAnswer({ userId: info.userId, model: info.model, connectionId: info.connectionId, usage: outcome.usage, ttftMs: outcome.ttftMs, durationMs: outcome.durationMs, status: outcome.isStopped ? 'stopped' : outcome.status });
      if (!info.chat) return;
      // Logged after saving, so a client told "end" finds the answer in the chat.
      generationLog.append(info.id, { seq: generation.lastSeq, kind: 'end', outcome: { status: outcome.status, error: outcome.error, isStopped: outcome.isStopped } });
      events.publish(info.userId, { type: 'answer:done', chat_id: info.chat.chatId, message_id: info.chat.assistantMessageId, status: outcome.status });
      if (info.chat.isFirstExchange && outcome.status === 'done' && (await settings.get()).ENABLE_TITLE_GENERATION) {
        const title = await generateTitle(upstream, target, request, outcome.content, timeouts);
        if (title) {
          await chats.setGeneratedTitle(info.chat.chatId, title);
          events.publish(info.userId, { type: 'chat:title', chat_id: info.chat.chatId, title });
        }
      }
    } catch (error) {
      log.error({ err: error, generation: info.id }, 'failed to finish a generation (usage, events or title)');
    } finally {
      releaseLease();
    }
  }

  /** Runs an opened upstream stream to its end; saved generations are logged and leased. */
  function launch(
    info: GenerationInfo,
    request: ChatRequest,
    target: UpstreamTarget,
    stream: UpstreamStream,
    listener: GenerationListener,
    start: Pick<GenerationStart, 'startedAt' | 'content' | 'lastSeq' | 'keepsText'>,
  ): Generation {
    const isLogged = info.chat !== undefined;
    const releaseLease = isLogged ? generationLog.holdLease(info.id) : noLease;
    let isSaved = true;
    // Spelled out, not spread: every generation's start then shares one hidden class.
    const generation = new Generation(info, stream, listener, {
      startedAt: start.startedAt,
      clock,
      content: start.content,
      lastSeq: start.lastSeq,
      keepsText: start.keepsText,
      onBatch: isLogged ? (seq, events) => generationLog.append(info.id, { seq, kind: 'events', events }) : undefined,
      persist: isLogged
        ? (outcome) =>
            saveWithRetries(info, outcome).catch((error: unknown) => {
              isSaved = false;
              log.error({ err: error, generation: info.id }, 'failed to save a finished answer');
            })
        : undefined,
    });
    running.set(info.id, generation);
    metrics.generationsStarted.inc({ model: info.model, connection: info.connectionId });
    metrics.activeStreams.inc();
    // One reaction on `done` while the stream is held, not a then/catch/finally chain.
    lifecycle.track(generation.done.then((outcome) => finish(info, generation, outcome, target, request, isSaved, releaseLease)));
    return generation;
  }

  /**
   * Continues a generation whose instance stopped renewing its lease: the
   * upstream is asked to continue the partial answer from the log, or (mode
   * `regenerate`, for upstreams that cannot continue) to answer afresh. False
   * when another instance got there first or there is nothing to continue.
   */
  async function takeOver(id: string): Promise<boolean> {
    if (running.has(id) || !(await generationLog.claim(id))) return false;
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
    const mode = platform.config.GENERATION_TAKEOVER_MODE;
    log.info({ generation: id, partialChars: content.length, mode }, 'taking over an abandoned generation');
    if (mode === 'regenerate') content = '';
    const resolved = await deps.models.resolve(record.info.model);
    const request: ChatRequest =
      mode === 'continue' ? { ...record.request, messages: [...record.request.messages, { role: 'assistant', content }] } : record.request;
    generationLog.append(id, { seq: lastSeq, kind: 'takeover', mode });
    let stream;
    try {
      stream = await upstream.streamChat(resolved.connection, request, timeouts);
    } catch (error) {
      const outcome: GenerationOutcome = {
        content, status: 'error', error: `could not continue the answer: ${String(error)}`, isStopped: false,
        finishReason: null, usage: null, ttftMs: null, durationMs: clock.now() - record.startedAt,
      };
      await saveAnswer(record.info, outcome);
      generationLog.append(id, { seq: lastSeq, kind: 'end', outcome: { status: 'error', error: outcome.error, isStopped: false } });
      await generationLog.release(id);
      return true;
    }
    launch(record.info, record.request, resolved.connection, stream, silent, { startedAt: record.startedAt, content, lastSeq });
    metrics.takeovers.inc();
    return true;
  }

  /**
   * Looks for answers left streaming by an instance that died: takes them over
   * when their log survives, else marks them interrupted once their lease is long gone.
   */
  async function sweep(): Promise<void> {
    const now = clock.now();
    for (const answer of await chats.listUnfinishedAnswers()) {
      if (running.has(answer.messageId) || (await generationLog.owner(answer.messageId)) !== null) continue;
      if (await generationLog.record(answer.messageId)) {
        await takeOver(answer.messageId);
      } else if (now - answer.createdAt > 3 * generationLog.leaseMs) {
        await chats.finishAnswer(answer.chatId, answer.messageId, {
          content: '', status: 'error', error: 'The answer was interrupted (its server stopped) and could not be resumed', usage: null, info: {},
        });
      }
    }
  }

  let sweeper: NodeJS.Timeout | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;

  return {
    launch,
    takeOver,
    sweep,
    /** The generation if it runs on this instance. */
    local: (id: string) => running.get(id),
    /** Starts listening for stop requests and sweeping for abandoned answers. */
    async startBackgroundWork(): Promise<void> {
      void generationLog.onStopRequest((id) => running.get(id)?.stop()).then((off) => (unsubscribe = off));
      sweeper = setInterval(() => {
        if (!lifecycle.isDraining) sweep().catch((error: unknown) => log.warn({ err: error }, 'generation sweep failed'));
      }, generationLog.leaseMs);
      sweeper.unref();
    },
    async close(): Promise<void> {
      clearInterval(sweeper);
      await unsubscribe?.().catch(() => undefined);
    },
  };
}

export type GenerationRunner = ReturnType<typeof createGenerationRunner>;
