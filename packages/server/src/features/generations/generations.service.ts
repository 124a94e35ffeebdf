import { randomUUID } from 'node:crypto';
import type { AuthUser } from '../../http/access.js';
import { httpErrors } from '../../http/errors.js';
import type { ChatRequest, UpstreamTarget } from '../../platform/llm/types.js';
import type { UpstreamClient } from '../../platform/llm/upstream-client.js';
import type { Platform } from '../../platform/platform.js';
import { traceGeneration } from '../../platform/telemetry/tracing-generation.js';
import type { AnalyticsService } from '../analytics/analytics.service.js';
import type { ChatsService } from '../chats/chats.service.js';
import type { EventsService } from '../events/events.service.js';
import type { ModelsService } from '../models/models.service.js';
import type { SettingsService } from '../settings/settings.service.js';
import { createAnswerEndRecorder, failedOutcome } from './answer-end.js';
import type { Generation, GenerationInfo, GenerationListener } from './generation.js';
import { GenerationLog, type LogEntry } from './generation-log.js';
import { createGenerationRunner } from './generation-runner.js';
import { createSweeper } from './sweep.js';
import { createTakeover } from './takeover.js';
import { createChatTitler } from './title.js';
import { createUpstreamErrorPresenter, toHttpError } from './upstream-failures.js';

export type { Generation, GenerationInfo, GenerationListener, GenerationOutcome, StreamingListener } from './generation.js';

/** A new answer, ready to be asked of its upstream. */
export interface GenerationPlan {
  info: GenerationInfo;
  request: ChatRequest;
  target: UpstreamTarget;
  startedAt: number;
  /** False when nobody reads the whole answer (an unsaved streamed one): its text is then not kept. */
  keepsText: boolean;
}

/** A generation a client follows through its log, whichever instance runs it. */
export interface FollowedGeneration {
  info: GenerationInfo;
  /** Log entries after the stream position `after`, waiting up to `blockMs` for the first. */
  read(after: string | null, blockMs: number): Promise<Array<{ position: string; entry: LogEntry }>>;
  /** Whether some instance still holds its lease. */
  isRunning(): Promise<boolean>;
  /** Continues it on this instance when nobody does; false when it did not. */
  takeOver(): Promise<boolean>;
}

export interface GenerationsDeps {
  models: ModelsService;
  chats: ChatsService;
  settings: SettingsService;
  events: EventsService;
  analytics: AnalyticsService;
  upstream: UpstreamClient;
}

/**
 * The generation engine: asks upstreams for answers and runs them to their end on this instance,
 * records how each ended, and lets any instance follow, stop or take over any answer.
 */
export function createGenerationsService(platform: Platform, { models, chats, settings, events, analytics, upstream }: GenerationsDeps) {
  const { config, clock, log, metrics } = platform;
  const timeouts = { headersMs: config.AIOHTTP_CLIENT_TIMEOUT * 1000, idleMs: config.AIOHTTP_CLIENT_TIMEOUT * 1000 };
  const generationLog = new GenerationLog(platform.shared, randomUUID(), config.GENERATION_LEASE_TIMEOUT * 1000, log);
  const recordAnswerEnd = createAnswerEndRecorder(platform, { chats, events, analytics, generationLog });
  const titleChat = createChatTitler({ chats, events, settings, upstream, timeouts });
  const presentUpstreamError = createUpstreamErrorPresenter(log);
  const runner = createGenerationRunner(platform, { generationLog, recordAnswerEnd, titleChat, presentUpstreamError });
  const takeOver = createTakeover(platform, { generationLog, models, upstream, timeouts, runner, recordAnswerEnd });
  const sweeper = createSweeper(platform, { chats, generationLog, runner, takeOver, recordAnswerEnd });
  let stopSweeping: (() => void) | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;

  return {
    /**
     * Opens the upstream stream and runs the answer to its end, saving it when it belongs to a chat.
     * Throws HttpError (429, 502, 503, 504) when the upstream refuses, before any byte is sent.
     */
    async start({ info, request, target, startedAt, keepsText }: GenerationPlan, listener: GenerationListener): Promise<Generation> {
      const generationTrace = traceGeneration(info);
      let stream;
      try {
        stream = await generationTrace.run(() => upstream.streamChat(target, request, timeouts));
      } catch (error) {
        const failure = toHttpError(error, (message, detail) => presentUpstreamError(info, message, detail));
        generationTrace.fail(failure);
        // Refused answers count too: an admin looking at usage must see a model that keeps failing.
        await recordAnswerEnd(info, failedOutcome(failure.message, clock.now() - startedAt), { kind: 'refused', error });
        throw failure;
      }
      if (info.chat) {
        generationLog.begin({ info, request, startedAt }).catch((error: unknown) => {
          log.warn({ err: error, generation: info.id }, 'generation will not be resumable: shared state refused it');
        });
      }
      const generation = runner.launch(info, request, target, stream, listener, { startedAt, keepsText });
      generationTrace.endWith(generation.done);
      return generation;
    },

    /** Stops a generation of the caller's on whichever instance runs it; 404 for unknown ids and other users'. */
    async stop(user: AuthUser, id: string): Promise<void> {
      const local = runner.local(id);
      if (local) {
        if (local.info.userId !== user.id) throw httpErrors.notFound('Generation');
        local.stop();
        return;
      }
      const record = await generationLog.record(id);
      if (!record || record.info.userId !== user.id) throw httpErrors.notFound('Generation');
      await generationLog.requestStop(id);
    },

    /** The caller's resumable generation, for following its log; 404 for unknown ids and other users'. */
    async resumable(user: AuthUser, id: string): Promise<FollowedGeneration> {
      const record = await generationLog.record(id);
      if (!record || record.info.userId !== user.id) throw httpErrors.notFound('Generation');
      metrics.resumes.inc();
      return {
        info: record.info,
        read: (after, blockMs) => generationLog.read(id, after, blockMs),
        isRunning: async () => (await generationLog.owner(id)) !== null,
        takeOver: () => takeOver(id),
      };
    },

    /** Begins listening for stop requests and sweeping for answers abandoned by dead instances. */
    async startBackgroundWork(): Promise<void> {
      void generationLog.onStopRequest((id) => runner.local(id)?.stop()).then((off) => (unsubscribe = off));
      stopSweeping = sweeper.start();
    },

    /** Stops the background work; generations still running are awaited through the lifecycle. */
    async close(): Promise<void> {
      stopSweeping?.();
      await unsubscribe?.().catch(() => undefined);
    },
  };
}

export type GenerationsService = ReturnType<typeof createGenerationsService>;
