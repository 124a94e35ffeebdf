import { randomUUID } from 'node:crypto';
import type { AuthUser } from '../../http/access.js';
import { HttpError, httpErrors } from '../../http/errors.js';
import { UpstreamClient } from '../../platform/llm/upstream-client.js';
import { UpstreamError, textOf, type ChatMessage, type ChatRequest, type UpstreamTarget } from '../../platform/llm/types.js';
import type { Platform } from '../../platform/platform.js';
import { traceGeneration } from '../../platform/telemetry/tracing-generation.js';
import type { AnalyticsService } from '../analytics/analytics.service.js';
import type { ChatsService } from '../chats/chats.service.js';
import type { EventsService } from '../events/events.service.js';
import type { ModelsService, ResolvedModel } from '../models/models.service.js';
import type { SettingsService } from '../settings/settings.service.js';
import { parleyOnlyFields, type CompletionBody } from './completions.schema.js';
import type { Generation, GenerationInfo, GenerationListener } from './generation.js';
import { GenerationLog } from './generation-log.js';
import { createGenerationRunner } from './generation-runner.js';

const knownFields = new Set<string>(['model', 'messages', 'temperature', 'top_p', 'max_tokens', 'seed', 'stop', ...parleyOnlyFields]);

/** Maps an upstream failure before the stream to the status the client sees. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (!(error instanceof UpstreamError)) return httpErrors.upstream(String(error));
  if (error.kind === 'status' && error.status === 429) return httpErrors.upstreamRateLimited(error.message, error.retryAfter);
  if (error.kind === 'timeout') return httpErrors.upstreamTimeout(error.message);
  // The model server is fine; this instance is full. A retryable 503 lets the client or proxy go elsewhere.
  if (error.kind === 'exhausted') return httpErrors.unavailable(`${error.message}; retry on another instance`);
  return httpErrors.upstream(error.message);
}

/** Runs chat completions against upstreams, relaying and saving answers. */
export function createCompletionsService(
  platform: Platform,
  { models, chats, settings, events, analytics }: { models: ModelsService; chats: ChatsService; settings: SettingsService; events: EventsService; analytics: AnalyticsService },
) {
  const { config, clock, log } = platform;
  const upstream = new UpstreamClient();
  const timeouts = { headersMs: config.AIOHTTP_CLIENT_TIMEOUT * 1000, idleMs: config.AIOHTTP_CLIENT_TIMEOUT * 1000 };
  const generationLog = new GenerationLog(platform.shared, randomUUID(), config.GENERATION_LEASE_TIMEOUT * 1000, log);
  const runner = createGenerationRunner(platform, { models, chats, settings, events, upstream, generationLog, timeouts, analytics });

  function upstreamRequest(body: CompletionBody, resolved: ResolvedModel): ChatRequest {
    const extra: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(body)) if (!knownFields.has(key)) extra[key] = value;
    const preset = resolved.preset;
    const params = (preset?.params ?? {}) as Partial<ChatRequest>;
    const messages = body.messages as ChatMessage[];
    return {
      model: resolved.upstreamModelId,
      messages: preset?.systemPrompt ? [{ role: 'system', content: preset.systemPrompt }, ...messages] : messages,
      temperature: body.temperature ?? params.temperature,
      top_p: body.top_p ?? params.top_p,
      max_tokens: body.max_tokens ?? params.max_tokens,
      seed: body.seed ?? params.seed,
      stop: body.stop ?? params.stop,
      extra,
    };
  }

  async function beginExchange(user: AuthUser, body: CompletionBody) {
    if (!body.chat_id) return undefined;
    const lastUser = [...body.messages].reverse().find((message) => message.role === 'user');
    if (!body.regenerate && !lastUser) throw httpErrors.badRequest('messages must include a user message to save into the chat');
    if (body.regenerate && !body.parent_id) throw httpErrors.badRequest('regenerate needs parent_id: the user message to answer again');
    const exchange = await chats.beginExchange({
      userId: user.id,
      chatId: body.chat_id,
      model: body.model,
      parentId: body.regenerate ? null : (body.parent_id ?? null),
      ...(body.regenerate
        ? { regenerateUserMessageId: body.parent_id! }
        : { userMessage: { id: body.user_message_id, content: textOf(lastUser!.content as ChatMessage['content']), files: body.files } }),
    });
    return { chatId: body.chat_id, ...exchange };
  }

  return {
    /**
     * Resolves the model, saves the user message when a chat is named, and opens
     * the upstream stream. Throws HttpError (404, 429, 502, 504) before any byte is sent.
     */
    async start(user: AuthUser, body: CompletionBody, listener: GenerationListener, { isRelayed = false } = {}): Promise<Generation> {
      const startedAt = clock.now();
      const resolved = await models.resolve(body.model);
      const request = upstreamRequest(body, resolved);
      const exchange = await beginExchange(user, body);
      const target: UpstreamTarget = resolved.connection;
      const info: GenerationInfo = {
        // A saved answer's generation is named after its message, so the sweeper can find its log.
        id: exchange?.assistantMessageId ?? randomUUID(),
        userId: user.id,
        model: body.model,
        upstreamModel: resolved.upstreamModelId,
        connectionId: resolved.connection.id,
        hasRawChunks: target.type === 'openai',
        createdAt: Math.floor(startedAt / 1000),
        ...(exchange ? { chat: exchange } : {}),
      };
      const generationTrace = traceGeneration(info);
      let stream;
      try {
        stream = await generationTrace.run(() => upstream.streamChat(target, request, timeouts));
      } catch (error) {
        const failure = toHttpError(error);
        generationTrace.fail(failure);
        platform.metrics.upstreamErrors.inc({ connection: resolved.connection.id, kind: error instanceof UpstreamError ? error.kind : 'network' });
        if (exchange) {
          await chats.finishAnswer(exchange.chatId, exchange.assistantMessageId, {
            content: '', status: 'error', error: failure.message, usage: null, info: { connection_id: resolved.connection.id },
          });
        }
        // Refused answers count too: an admin looking at usage must see a model that keeps failing.
        await analytics.recordAnswer({
          userId: user.id, model: body.model, connectionId: resolved.connection.id, usage: null, ttftMs: null, durationMs: clock.now() - startedAt, status: 'error',
        });
        throw failure;
      }
      if (exchange) {
        generationLog.begin({ info, request, startedAt }).catch((error: unknown) => {
          log.warn({ err: error, generation: info.id }, 'generation will not be resumable: shared state refused it');
        });
      }
      // A relayed answer's text reaches its client piece by piece; only a saved answer needs it whole.
      const generation = runner.launch(info, request, target, stream, listener, { startedAt, keepsText: !isRelayed || exchange !== undefined });
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
    async resumable(user: AuthUser, id: string) {
      const record = await generationLog.record(id);
      if (!record || record.info.userId !== user.id) throw httpErrors.notFound('Generation');
      platform.metrics.resumes.inc();
      return { record, log: generationLog, takeOver: () => runner.takeOver(id) };
    },

    /** Begins listening for stop requests and sweeping for answers abandoned by dead instances. */
    startBackgroundWork: () => runner.startBackgroundWork(),

    /** Model ids the caller can use, for the Ollama-compatible tag list. */
    listModels: () => models.list(),

    async close(): Promise<void> {
      await runner.close();
      await upstream.close();
    },
  };
}

export type CompletionsService = ReturnType<typeof createCompletionsService>;
