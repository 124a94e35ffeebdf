import { randomUUID } from 'node:crypto';
import type { AuthUser } from '../../http/access.js';
import { httpErrors } from '../../http/errors.js';
import { textOf, type ChatMessage, type ChatRequest } from '../../platform/llm/types.js';
import type { Platform } from '../../platform/platform.js';
import type { ChatsService } from '../chats/chats.service.js';
import type { Generation, GenerationInfo, GenerationListener, GenerationsService } from '../generations/generations.service.js';
import type { ModelsService, ResolvedModel } from '../models/models.service.js';
import { parleyOnlyFields, type CompletionBody } from './completions.schema.js';

const knownFields = new Set<string>(['model', 'messages', 'temperature', 'top_p', 'max_tokens', 'seed', 'stop', ...parleyOnlyFields]);

/**
 * Turns a client's chat completion into a generation: resolves the model, builds the upstream
 * request, saves the user message when a chat is named, and hands the answer to the engine.
 */
export function createCompletionsService(
  platform: Platform,
  { models, chats, generations }: { models: ModelsService; chats: ChatsService; generations: GenerationsService },
) {
  const { clock } = platform;

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
      const info: GenerationInfo = {
        // A saved answer's generation is named after its message, so the sweeper can find its log.
        id: exchange?.assistantMessageId ?? randomUUID(),
        userId: user.id,
        model: body.model,
        upstreamModel: resolved.upstreamModelId,
        connectionId: resolved.connection.id,
        seesUpstreamDetail: user.role === 'admin',
        hasRawChunks: resolved.connection.type === 'openai',
        createdAt: Math.floor(startedAt / 1000),
        ...(exchange ? { chat: exchange } : {}),
      };
      // A relayed answer's text reaches its client piece by piece; only a saved answer needs it whole.
      const keepsText = !isRelayed || exchange !== undefined;
      return generations.start({ info, request, target: resolved.connection, startedAt, keepsText }, listener);
    },

    /** Whether an answer can be resumed from any instance: saved into a chat, and Redis serving (not this instance's memory). */
    isResumable: (info: GenerationInfo): boolean => info.chat !== undefined && !platform.shared.isDegraded(),

    /** Model ids the caller can use, for the Ollama-compatible tag list. */
    listModels: () => models.list(),
  };
}

export type CompletionsService = ReturnType<typeof createCompletionsService>;
