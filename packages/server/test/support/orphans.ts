import { createChatsService } from '../../src/features/chats/chats.service.js';
import { GenerationLog, type LogEntry } from '../../src/features/generations/generation-log.js';
import type { TestUser } from './factories.js';
import type { TestApp } from './test-app.js';

/** The question every orphaned answer was asked. */
export const orphanMessages = [{ role: 'user' as const, content: 'Survive the crash' }];

/** A generation's log as any instance reads it from shared state. */
export async function logOf(app: TestApp, id: string): Promise<LogEntry[]> {
  const log = new GenerationLog(app.parley.platform.shared, 'reader', 1000, app.parley.platform.log);
  return (await log.read(id, null, 0)).map((row) => row.entry);
}

/** An answer begun by an instance that died: its chat row, its record and log in shared state, its lapsing lease. */
export interface Orphan {
  id: string;
  chatId: string;
  /** When its lease lapses (epoch ms): a takeover may start from then on. */
  leaseEndsAt: number;
  /** Reads its log from the start. */
  entries(): Promise<LogEntry[]>;
}

/**
 * Writes, as an instance would before dying mid-answer, an answer of `user` saved into a new chat: the
 * streaming assistant message, the generation's record, a lease that is never renewed and a first batch
 * holding `partial`. Shares the app's database and shared state, so the app sees it as another instance's.
 */
export async function orphanAnswer(app: TestApp, user: TestUser, options: { model?: string; partial?: string; leaseMs?: number } = {}): Promise<Orphan> {
  const model = options.model ?? 'fake-model';
  const leaseMs = options.leaseMs ?? app.parley.platform.config.GENERATION_LEASE_TIMEOUT * 1000;
  const platform = app.parley.platform;
  const chat = await app.request<{ id: string }>('POST', '/api/v1/chats/new', { token: user.token, body: { chat: {} } });
  const chats = createChatsService(platform, { publish: () => undefined });
  const begun = await chats.beginExchange({ userId: user.id, chatId: chat.body.id, model, parentId: null, userMessage: { content: orphanMessages[0]!.content } });
  const dead = new GenerationLog(platform.shared, 'dead-instance', leaseMs, platform.log);
  const startedAt = Date.now();
  const id = begun.assistantMessageId;
  await dead.begin({
    info: {
      id,
      userId: user.id,
      model,
      upstreamModel: model,
      connectionId: 'gone',
      hasRawChunks: false,
      createdAt: Math.floor(startedAt / 1000),
      chat: { chatId: chat.body.id, userMessageId: begun.userMessageId, assistantMessageId: id, isFirstExchange: false },
    },
    request: { model, messages: orphanMessages, extra: {} },
    startedAt,
  });
  const leaseEndsAt = Date.now() + leaseMs;
  if (options.partial) await platform.shared.appendToStream(`generation:${id}`, { seq: '1', entry: JSON.stringify({ kind: 'events', events: [{ type: 'delta', content: options.partial }] }) });
  return {
    id,
    chatId: chat.body.id,
    leaseEndsAt,
    entries: () => logOf(app, id),
  };
}
