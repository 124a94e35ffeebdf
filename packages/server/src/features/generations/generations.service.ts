import { randomUUID } from 'node:crypto';
import type { AuthUser } from '../../http/access.js';
import { httpErrors } from '../../http/errors.js';
import type { ChatRequest, UpstreamTarget } from '../../platform/llm/types.js';
import type { UpstreamClient } from '../../platform/llm/upstream-client.js';
import type { Platform } from '../../platform/platform.js';
import { traceGeneration } from '../../platform/telemetry/tracing-generation.js';
import type { AnalyticsService } from '../analytics/analytics.service.js';
import type { ChatsService } from '../chats/chats.service.js';
import type { ConnectionsService } from '../connections/connections.service.js';
import type { EventsService } from '../events/events.service.js';
import type { ModelsService } from '../models/models.service.js';
import type { SettingsService } from '../settings/settings.service.js';
import { createAnswerEndRecorder, failedOutcome } from './answer-end.js';
import type { Generation, GenerationInfo, GenerationListener } from './generation.js';
import type { FollowedGeneration } from './followed-generation.js';
import { GenerationLog } from './generation-log.js';
import { savedAnswerFollower } from './saved-answer.js';
import { createGenerationRunner } from './generation-runner.js';
import { createSweeper } from './sweep.js';
import { createTakeover } from './takeover.js';
import { createChatTitler } from './title.js';
import { createUpstreamErrorPresenter, toHttpError } from './upstream-failures.js';

export type { Generation, GenerationInfo, GenerationListener, GenerationOutcome, StreamingListener } from './generation.js';
export type { FollowedGeneration } from './followed-generation.js';

/** A new answer, ready to be asked of its upstream. */
export interface GenerationPlan {
  info: GenerationInfo;
  request: ChatRequest;
  target: UpstreamTarget;
  startedAt: number;
  /** False when nobody reads the whole answer (an unsaved streamed one): its text is then not kept. */
  keepsText: boolean;
}

export interface GenerationsDeps {
  models: ModelsService;
  chats: ChatsService;
  connections: ConnectionsService;
  settings: SettingsService;
  events: EventsService;
  analytics: AnalyticsService;
  upstream: UpstreamClient;
}

/**
 * The generation engine: asks upstreams for answers and runs them to their end on this instance,
 * records how each ended, and lets any instance follow, stop or take over any answer.
 */
export function createGenerationsService(platform: Platform, { models, chats, connections, settings, events, analytics, upstream }: GenerationsDeps) {
  const { config, clock, log, metrics } = platform;
  const timeouts = { headersMs: config.AIOHTTP_CLIENT_TIMEOUT * 1000, idleMs: config.AIOHTTP_CLIENT_TIMEOUT * 1000 };
  const generationLog = new GenerationLog(platform.shared, randomUUID(), config.GENERATION_LEASE_TIMEOUT * 1000, log);
  const recordAnswerEnd = createAnswerEndRecorder(platform, { chats, events, analytics, generationLog });
  const titleChat = createChatTitler({ chats, events, settings, upstream, timeouts });
  const presentUpstreamError = createUpstreamErrorPresenter(log);
  const runner = createGenerationRunner(platform, { generationLog, recordAnswerEnd, titleChat, presentUpstreamError });
  const takeOver = createTakeover(platform, { generationLog, models, connections, upstream, timeouts, runner, recordAnswerEnd });
  const sweeper = createSweeper(platform, { chats, generationLog, runner, takeOver, recordAnswerEnd });
  let stopSweeping: (() => void) | undefined;
  let unsubscribe: (() => Promise<void>) | undefined;

  /** Writes a new saved answer's record and takes its lease, renewed from now on; a refusal is logged, not thrown. */
  function begin(info: GenerationInfo, request: ChatRequest, startedAt: number) {
    const releaseLease = generationLog.holdLease(info.id);
    const ready = generationLog.begin({ info, request, startedAt }).then(
      () => undefined,
      (error: unknown) => log.warn({ err: error, generation: info.id }, 'generation will not be resumable: shared state refused it'),
    );
    return { ready, releaseLease };
  }

  return {
    /**
     * Opens the upstream stream and runs the answer to its end, saving it when it belongs to a chat.
     * Throws HttpError (429, 502, 503, 504) when the upstream refuses, before any byte is sent.
     */
    async start({ info, request, target, startedAt, keepsText }: GenerationPlan, listener: GenerationListener): Promise<Generation> {
      const generationTrace = traceGeneration(info);
      // A saved answer's record and lease are written while the upstream is asked, and are there before
      // its first byte goes out: a client holding its id can always resume it, stop it or see it taken over.
      const begun = info.chat ? begin(info, request, startedAt) : undefined;
      let stream;
      try {
        stream = await generationTrace.run(() => upstream.streamChat(target, request, timeouts));
      } catch (error) {
        const failure = toHttpError(error, (message, detail) => presentUpstreamError(info, message, detail));
        generationTrace.fail(failure);
        await begun?.ready;
        // Refused answers count too: an admin looking at usage must see a model that keeps failing.
        await recordAnswerEnd(info, failedOutcome(failure.message, clock.now() - startedAt), { kind: 'refused', error });
        begun?.releaseLease();
        throw failure;
      }
      await begun?.ready;
      const generation = runner.launch(info, request, target, stream, listener, { startedAt, keepsText, releaseLease: begun?.releaseLease });
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
      if (record && record.info.userId !== user.id) throw httpErrors.notFound('Generation');
      // Its record gone (the answer is old, or shared state lost it): the saved answer says whether it is known.
      if (!record && !(await chats.findAnswer(user.id, id))) throw httpErrors.notFound('Generation');
      // A finished answer has nobody to hear this, and stopping it changes nothing.
      await generationLog.requestStop(id);
    },

    /**
     * The caller's generation, for following it: through its log while that lasts, else from the answer
     * saved in the chat (waiting while it is still being written). 404 for unknown ids and other users',
     * 409 for an answer that is not saved in a chat (it has no log).
     */
    async resumable(user: AuthUser, id: string): Promise<FollowedGeneration> {
      const record = await generationLog.record(id);
      if (record) {
        if (record.info.userId !== user.id) throw httpErrors.notFound('Generation');
        metrics.resumes.inc();
        return {
          info: record.info,
          read: (after, blockMs) => generationLog.read(id, after, blockMs),
          isRunning: async () => (await generationLog.owner(id)) !== null,
          takeOver: () => takeOver(id),
        };
      }
      const local = runner.local(id);
      if (local && local.info.userId === user.id && !local.info.chat) {
        throw httpErrors.conflict('This answer is not saved in a chat, so it cannot be resumed: ask again, or send chat_id to make answers resumable');
      }
      const saved = await chats.findAnswer(user.id, id);
      if (!saved) throw httpErrors.notFound('Generation');
      metrics.resumes.inc();
      return savedAnswerFollower({ id, userId: user.id, saved, generationLog, chats, takeOver });
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
