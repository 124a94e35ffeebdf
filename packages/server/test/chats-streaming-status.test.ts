import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChatsService } from '../src/features/chats/chats.service.js';
import * as chatsRepo from '../src/features/chats/chats.repo.js';
import { adminAndUser, newChat, type TestUser } from './support/factories.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import type { Chat, ChatSummary, ErrorBody } from './support/wire.js';

const unfinished = 'The answer was not finished when this chat was saved';

// `streaming` means "the server is writing this answer": the sweeper takes such answers over or ends them.
// Nothing a client sends may make one.
describe('who may mark an answer as being written', () => {
  let app: TestApp;
  let user: TestUser;

  const streamingIds = (chatId: string) => chatsRepo.findStreamingIds(app.parley.platform.db.kysely, chatId);

  beforeAll(async () => {
    app = await startTestApp();
    ({ user } = await adminAndUser(app));
  });
  afterAll(() => app.close());

  it('stores an imported or client-sent answer with done: false as unfinished, never as streaming', async () => {
    const history = {
      currentId: 'a1',
      messages: {
        u1: { id: 'u1', parentId: null, childrenIds: ['a1'], role: 'user', content: 'Hello', done: false },
        a1: { id: 'a1', parentId: 'u1', childrenIds: [], role: 'assistant', content: 'Half an', done: false },
      },
    };
    const imported = await app.request<Chat[]>('POST', '/api/v1/chats/import', { token: user.token, body: [{ chat: { title: 'Imported', history } }] });
    expect(imported.status).toBe(200);
    const importedChat = imported.body[0]!;
    expect(await streamingIds(importedChat.id)).toEqual([]);
    const answer = Object.values(importedChat.chat.history.messages).find((message) => message.role === 'assistant')!;
    expect(answer).toMatchObject({ content: 'Half an', done: false, error: { content: unfinished } });
    expect(Object.values(importedChat.chat.history.messages).find((message) => message.role === 'user')).toMatchObject({ done: true, error: null });

    const created = await newChat(app, user, { messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Par', done: false }] });
    expect(await streamingIds(created.id)).toEqual([]);
    const updated = await app.request<Chat>('POST', `/api/v1/chats/${created.id}`, {
      token: user.token,
      body: { chat: { messages: [{ role: 'user', content: 'Hi' }, { role: 'assistant', content: 'Partial', done: false }] } },
    });
    expect(updated.status).toBe(200);
    expect(await streamingIds(created.id)).toEqual([]);
    expect(updated.body.chat.messages.at(-1)).toMatchObject({ content: 'Partial', error: { content: unfinished } });
  });

  it('keeps an answer the server is writing streaming when a client saves the chat meanwhile; a copy is unfinished', async () => {
    const chat = await newChat(app, user);
    const chats = createChatsService(app.parley.platform, { publish: () => undefined });
    const begun = await chats.beginExchange({ userId: user.id, chatId: chat.id, model: 'fake-model', parentId: null, userMessage: { content: 'Hello' } });
    const current = await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token });
    // The client's copy says what it showed: not done, some text.
    const history = structuredClone(current.body.chat.history);
    history.messages[begun.assistantMessageId]!.content = 'What the tab showed';
    const saved = await app.request<Chat>('POST', `/api/v1/chats/${chat.id}`, { token: user.token, body: { chat: { title: 'Renamed', history } } });
    expect(saved.status).toBe(200);
    expect(await streamingIds(chat.id)).toEqual([begun.assistantMessageId]);
    expect(saved.body.chat.history.messages[begun.assistantMessageId]).toMatchObject({ done: false, error: null });

    const clone = await app.request<Chat>('POST', `/api/v1/chats/${chat.id}/clone`, { token: user.token, body: {} });
    expect(await streamingIds(clone.body.id)).toEqual([]);
    expect(clone.body.chat.messages.at(-1)).toMatchObject({ role: 'assistant', error: { content: unfinished } });
  });

  // The input guard refuses NUL anywhere in a request (PostgreSQL's text cannot hold it), before anything is stored.
  it('refuses U+0000 in messages, titles and ids, storing nothing', async () => {
    const before = (await app.request<ChatSummary[]>('GET', '/api/v1/chats/', { token: user.token })).body.length;
    const created = await app.request<ErrorBody>('POST', '/api/v1/chats/new', { token: user.token, body: { chat: { title: 'A\u0000title', messages: [] } } });
    expect(created.status).toBe(400);
    expect(created.body.code).toBe('invalid_input');
    expect((await app.request<ChatSummary[]>('GET', '/api/v1/chats/', { token: user.token })).body).toHaveLength(before);
    const chat = await newChat(app, user);
    const added = await app.request<ErrorBody>('POST', `/api/v1/chats/${chat.id}/messages`, { token: user.token, body: { parent_id: null, role: 'user', content: 'x\u0000' } });
    expect(added.status).toBe(400);
    expect((await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token })).body.chat.messages).toEqual([]);
    const badId = await app.request<ErrorBody>('POST', `/api/v1/chats/${chat.id}/messages`, { token: user.token, body: { id: 'a\u0000b', parent_id: null, role: 'user', content: 'x' } });
    expect(badId.status).toBe(400);
    expect((await app.request<ErrorBody>('GET', `/api/v1/chats/${encodeURIComponent('a\u0000b')}`, { token: user.token })).status).toBe(400);
  });
});
