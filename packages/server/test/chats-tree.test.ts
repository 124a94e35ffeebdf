import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createChatsService, type ChatsService } from '../src/features/chats/chats.service.js';
import { newChat, promote, signUp, type TestUser } from './support/factories.js';
import { startWithUsers } from './support/start-with-users.js';
import type { TestApp } from './support/test-app.js';
import type { Chat, ErrorBody, Message } from './support/wire.js';

/**
 * An Open WebUI history with a branch: the first user message has two answers
 * (a1 then a2), a1 has a follow-up, and the current leaf is a2.
 */
function branchedHistory() {
  const id = { u1: randomUUID(), a1: randomUUID(), u2: randomUUID(), a2: randomUUID() };
  const t = 1_700_000_000;
  return {
    id,
    history: {
      currentId: id.a2,
      messages: {
        [id.u1]: { id: id.u1, parentId: null, childrenIds: [id.a1, id.a2], role: 'user', content: 'Hello', timestamp: t },
        // a2 is listed after a1 although both share one second: the order must survive storage.
        [id.a2]: { id: id.a2, parentId: id.u1, childrenIds: [], role: 'assistant', content: 'Hey (again)', model: 'm1', timestamp: t + 1, done: true },
        [id.a1]: { id: id.a1, parentId: id.u1, childrenIds: [id.u2], role: 'assistant', content: 'Hi!', model: 'm1', timestamp: t + 1, done: true, usage: { total_tokens: 7 } },
        [id.u2]: { id: id.u2, parentId: id.a1, childrenIds: [], role: 'user', content: 'Tell me more', timestamp: t + 2, files: [{ id: 'f1' }] },
      },
    },
  };
}

/** A chat's tree with ids replaced by positions, so copies with new ids compare equal. */
function shapeOf(chat: Chat) {
  const messages = chat.chat.history.messages;
  type Shape = Omit<Message, 'id' | 'parentId' | 'childrenIds'> & { children: Shape[] };
  const walk = (id: string): Shape => {
    const { id: _id, parentId: _p, childrenIds, ...rest } = messages[id]!;
    return { ...rest, children: childrenIds.map(walk) };
  };
  const roots = Object.values(messages).filter((m) => m.parentId === null);
  const { currentId } = chat.chat.history;
  return { roots: roots.map((m) => walk(m.id)), path: chat.chat.messages.map((m) => m.content), currentContent: currentId === null ? undefined : messages[currentId]?.content };
}

describe('chat message trees', () => {
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;
  let service: ChatsService;

  beforeAll(async () => {
    ({ app, admin, user } = await startWithUsers());
    // Changes made here reach nobody's tabs: the routes' events are tested in events.test.ts.
    service = createChatsService(app.parley.platform, { publish: () => undefined });
  });
  afterAll(() => app.close());

  const db = () => app.parley.platform.db.kysely;

  /** A new approved user whose chat lists start empty. */
  async function freshUser(): Promise<TestUser> {
    const fresh = await signUp(app);
    await promote(app, admin, fresh, 'user');
    return fresh;
  }
  const counts = async () => [(await db().selectFrom('chats').select('id').execute()).length, (await db().selectFrom('messages').select('id').execute()).length];

  async function createBranched(owner: TestUser) {
    const fixture = branchedHistory();
    return { ...fixture, chat: await newChat(app, owner, { title: 'Branched', models: ['m1'], history: fixture.history }) };
  }

  it('stores an Open WebUI history as a tree, keeping ids, sibling order and the current path', async () => {
    const { id, chat } = await createBranched(user);
    const messages = chat.chat.history.messages;
    expect(chat.chat.history.currentId).toBe(id.a2);
    expect(messages[id.u1]!.childrenIds).toEqual([id.a1, id.a2]);
    expect(messages[id.a1]).toMatchObject({ parentId: id.u1, childrenIds: [id.u2], role: 'assistant', content: 'Hi!', model: 'm1', timestamp: 1_700_000_001, done: true, error: null, usage: { total_tokens: 7 } });
    expect(messages[id.u2]!.files).toEqual([{ id: 'f1' }]);
    expect(chat.chat.messages.map((m) => m.id)).toEqual([id.u1, id.a2]);
  });

  it('adds messages under a parent, making branches, and moves the current leaf', async () => {
    const { id, chat } = await createBranched(user);
    const added = await app.request<Message>('POST', `/api/v1/chats/${chat.id}/messages`, { token: user.token, body: { parent_id: id.u1, role: 'assistant', content: 'Third answer', model: 'm2' } });
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ parentId: id.u1, childrenIds: [], role: 'assistant', content: 'Third answer', model: 'm2', done: true });
    const third = added.body.id;

    let current = (await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token })).body;
    expect(current.chat.history.currentId).toBe(third);
    expect(current.chat.history.messages[id.u1]!.childrenIds).toEqual([id.a1, id.a2, third]);
    expect(current.chat.messages.map((m) => m.content)).toEqual(['Hello', 'Third answer']);

    const moved = await app.request<Chat>('POST', `/api/v1/chats/${chat.id}/current`, { token: user.token, body: { message_id: id.u2 } });
    expect(moved.status).toBe(200);
    expect(moved.body.chat.history.currentId).toBe(id.u2);
    expect(moved.body.chat.messages.map((m) => m.id)).toEqual([id.u1, id.a1, id.u2]);

    const root = await app.request<Message>('POST', `/api/v1/chats/${chat.id}/messages`, { token: user.token, body: { parent_id: null, role: 'system', content: 'Second root' } });
    expect(root.body.parentId).toBeNull();
    current = (await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token })).body;
    expect(current.chat.messages.map((m) => m.content)).toEqual(['Second root']);

    const one = await app.request<Message>('GET', `/api/v1/chats/${chat.id}/messages/${id.a1}`, { token: user.token });
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ id: id.a1, parentId: id.u1, childrenIds: [id.u2], content: 'Hi!' });
  });

  it('refuses a parent or leaf that is not in the chat, changing nothing', async () => {
    const { id, chat } = await createBranched(user);
    const other = await createBranched(user);
    const before = await counts();
    const foreignParent = await app.request<Message>('POST', `/api/v1/chats/${chat.id}/messages`, { token: user.token, body: { parent_id: other.id.u1, role: 'user', content: 'x' } });
    expect(foreignParent.status).toBe(400);
    const unknownParent = await app.request<Message>('POST', `/api/v1/chats/${chat.id}/messages`, { token: user.token, body: { parent_id: 'nope', role: 'user', content: 'x' } });
    expect(unknownParent.status).toBe(400);
    const badRole = await app.request<Message>('POST', `/api/v1/chats/${chat.id}/messages`, { token: user.token, body: { parent_id: id.u1, role: 'tool', content: 'x' } });
    expect(badRole.status).toBe(400);
    const missingParent = await app.request<Message>('POST', `/api/v1/chats/${chat.id}/messages`, { token: user.token, body: { role: 'user', content: 'x' } });
    expect(missingParent.status).toBe(400);
    const takenId = await app.request<Message>('POST', `/api/v1/chats/${chat.id}/messages`, { token: user.token, body: { id: other.id.a1, parent_id: id.u1, role: 'user', content: 'x' } });
    expect(takenId.status).toBe(409);
    const foreignLeaf = await app.request<Chat>('POST', `/api/v1/chats/${chat.id}/current`, { token: user.token, body: { message_id: other.id.a1 } });
    expect(foreignLeaf.status).toBe(404);
    expect((await app.request<Message>('GET', `/api/v1/chats/${chat.id}/messages/${other.id.a1}`, { token: user.token })).status).toBe(404);
    expect(await counts()).toEqual(before);
    expect((await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token })).body).toEqual(chat);
  });

  it('clones a chat with new ids, the same tree and the same current leaf', async () => {
    const { chat } = await createBranched(user);
    const cloned = await app.request<Chat>('POST', `/api/v1/chats/${chat.id}/clone`, { token: user.token });
    expect(cloned.status).toBe(200);
    expect(cloned.body.id).not.toBe(chat.id);
    expect(cloned.body.title).toBe('Clone of Branched');
    expect(cloned.body.chat.models).toEqual(['m1']);
    const originalIds = new Set(Object.keys(chat.chat.history.messages));
    expect(Object.keys(cloned.body.chat.history.messages).some((mid) => originalIds.has(mid))).toBe(false);
    expect(shapeOf(cloned.body)).toEqual(shapeOf(chat));
    const named = await app.request<Chat>('POST', `/api/v1/chats/${chat.id}/clone`, { token: user.token, body: { title: 'My copy' } });
    expect(named.body.title).toBe('My copy');
    expect((await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token })).body).toEqual(chat);
  });

  it('round-trips export and import exactly: ids kept when free, renamed consistently when taken', async () => {
    const { chat } = await createBranched(user);
    await app.request('POST', `/api/v1/chats/${chat.id}/pin`, { token: user.token });
    const exported = (await app.request<Chat>('GET', `/api/v1/chats/${chat.id}/export`, { token: user.token })).body;

    // Taken ids: the original still exists, so the import renames them and keeps the shape.
    const copy = await app.request<Chat>('POST', '/api/v1/chats/import', { token: user.token, body: { chat: exported.chat, pinned: true, meta: { tags: ['t'] } } });
    expect(copy.status).toBe(200);
    expect(copy.body.id).not.toBe(chat.id);
    expect(copy.body).toMatchObject({ title: 'Branched', pinned: true, archived: false, meta: { tags: ['t'] } });
    expect(shapeOf(copy.body)).toEqual(shapeOf(exported));
    expect(Object.keys(copy.body.chat.history.messages).some((mid) => mid in exported.chat.history.messages)).toBe(false);

    // Free ids: after deleting the original, an import gives back the very same history.
    await app.request<Chat>('DELETE', `/api/v1/chats/${chat.id}`, { token: user.token });
    const restored = await app.request<Chat>('POST', '/api/v1/chats/import', { token: user.token, body: exported });
    expect(restored.status).toBe(200);
    expect(restored.body.chat.history).toEqual(exported.chat.history);
    expect(restored.body.chat.messages).toEqual(exported.chat.messages);
    expect(restored.body).toMatchObject({ title: exported.title, pinned: true, created_at: exported.created_at, updated_at: exported.updated_at });
  });

  it('exports all chats (archived too) and imports them back as an array', async () => {
    const owner = await freshUser();
    const first = await createBranched(owner);
    const second = await newChat(app, owner, { title: 'Plain', messages: [{ role: 'user', content: 'one' }] });
    await app.request('POST', `/api/v1/chats/${second.id}/archive`, { token: owner.token });
    const all = await app.request<Chat[]>('GET', '/api/v1/chats/all', { token: owner.token });
    expect(all.status).toBe(200);
    expect(all.body.map((c) => c.title).sort()).toEqual(['Branched', 'Plain']);
    expect(all.body.find((c) => c.title === 'Plain')!.archived).toBe(true);
    expect(all.body.find((c) => c.title === 'Branched')!.chat.history).toEqual(first.chat.chat.history);

    await app.request('DELETE', '/api/v1/chats/', { token: owner.token });
    const imported = await app.request<Chat[]>('POST', '/api/v1/chats/import', { token: owner.token, body: all.body });
    expect(imported.status).toBe(200);
    expect(imported.body).toHaveLength(2);
    const again = await app.request<Chat[]>('GET', '/api/v1/chats/all', { token: owner.token });
    // Chat ids are new; everything else, times included, comes back as it was exported.
    const comparable = (list: Chat[]) =>
      list.map((c) => ({ ...c, id: undefined, chat: { ...c.chat, id: undefined } })).sort((a, b) => a.title.localeCompare(b.title));
    expect(comparable(again.body)).toEqual(comparable(all.body));
  });

  it('gives distinct ids to imported chats that share message ids', async () => {
    const { chat } = await createBranched(user);
    const exported = (await app.request<Chat>('GET', `/api/v1/chats/${chat.id}/export`, { token: user.token })).body;
    const twice = await app.request<Chat[]>('POST', '/api/v1/chats/import', { token: user.token, body: [exported, exported] });
    expect(twice.status).toBe(200);
    const [a, b] = twice.body as [Chat, Chat];
    expect(shapeOf(a)).toEqual(shapeOf(exported));
    expect(shapeOf(b)).toEqual(shapeOf(exported));
    expect(Object.keys(a.chat.history.messages).some((mid) => mid in b.chat.history.messages)).toBe(false);
  });

  // Each damage breaks the history's shape on purpose: its messages are open records here.
  type Damage = (history: { currentId: string; messages: Record<string, Record<string, unknown>> }, id: ReturnType<typeof branchedHistory>['id']) => void;
  it.each<[string, Damage]>([
    ['a parentId that points nowhere', (h, id) => (h.messages[id.u2]!.parentId = 'ghost')],
    ['a cycle', (h, id) => (h.messages[id.u1]!.parentId = id.u2)],
    ['a self-parent', (h, id) => (h.messages[id.a2]!.parentId = id.a2)],
    ['an unknown currentId', (h) => (h.currentId = 'ghost')],
    ['a key that differs from the id', (h, id) => (h.messages[id.a2]!.id = 'other')],
    ['a wrong type', (h, id) => (h.messages[id.a2]!.done = 'yes')],
  ])('rejects an import with %s and stores nothing, even from a batch', async (_name, damage) => {
    const good = branchedHistory();
    const bad = branchedHistory();
    damage(bad.history, bad.id);
    const before = await counts();
    const response = await app.request<ErrorBody>('POST', '/api/v1/chats/import', {
      token: user.token,
      body: [{ chat: { title: 'Good', history: good.history } }, { chat: { title: 'Bad', history: bad.history } }],
    });
    expect(response.status).toBe(400);
    expect(typeof response.body.detail).toBe('string');
    expect(await counts()).toEqual(before);
  });

  it('rejects malformed import bodies', async () => {
    const before = await counts();
    for (const body of ['[{"chat":', [], { pinned: true }, [{ chat: { title: 5 } }]]) {
      const response = await app.request('POST', '/api/v1/chats/import', { token: user.token, body, headers: { 'content-type': 'application/json' } });
      expect(response.status).toBe(400);
    }
    expect(await counts()).toEqual(before);
  });

  describe('service methods for completions', () => {
    it('begins an exchange: user message plus streaming placeholder, current leaf moved', async () => {
      const chat = await newChat(app, user);
      const begun = await service.beginExchange({ userId: user.id, chatId: chat.id, model: 'm1', parentId: null, userMessage: { content: 'Hi there', files: [{ id: 'f' }] } });
      expect(begun.isFirstExchange).toBe(true);
      const full = (await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token })).body;
      expect(full.chat.history.currentId).toBe(begun.assistantMessageId);
      expect(full.chat.messages.map((m) => [m.id, m.role, m.content, m.done])).toEqual([
        [begun.userMessageId, 'user', 'Hi there', true],
        [begun.assistantMessageId, 'assistant', '', false],
      ]);
      expect(full.chat.history.messages[begun.userMessageId]!.files).toEqual([{ id: 'f' }]);
      expect(full.chat.history.messages[begun.assistantMessageId]!.model).toBe('m1');

      await service.finishAnswer(chat.id, begun.assistantMessageId, {
        content: 'Hello!',
        status: 'done',
        error: null,
        usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
        info: { finish_reason: 'stop' },
      });
      await service.setGeneratedTitle(chat.id, '  Greetings  ');
      const done = (await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token })).body;
      expect(done.title).toBe('Greetings');
      expect(done.chat.history.messages[begun.assistantMessageId]).toMatchObject({
        content: 'Hello!',
        done: true,
        error: null,
        usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
        info: { finish_reason: 'stop' },
      });

      const followUp = await service.beginExchange({ userId: user.id, chatId: chat.id, model: 'm1', parentId: begun.assistantMessageId, userMessage: { id: randomUUID(), content: 'More' } });
      expect(followUp.isFirstExchange).toBe(false);
      const regenerated = await service.beginExchange({ userId: user.id, chatId: chat.id, model: 'm2', parentId: null, regenerateUserMessageId: begun.userMessageId });
      expect(regenerated.userMessageId).toBe(begun.userMessageId);
      expect(regenerated.isFirstExchange).toBe(false);
      await service.finishAnswer(chat.id, regenerated.assistantMessageId, { content: 'partial', status: 'error', error: 'upstream died', usage: null, info: {} });
      const branched = (await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token })).body;
      expect(branched.chat.history.messages[begun.userMessageId]!.childrenIds).toEqual([begun.assistantMessageId, regenerated.assistantMessageId]);
      expect(branched.chat.messages.map((m) => m.id)).toEqual([begun.userMessageId, regenerated.assistantMessageId]);
      expect(branched.chat.history.messages[regenerated.assistantMessageId]).toMatchObject({ done: false, error: { content: 'upstream died' }, content: 'partial' });
    });

    it('keeps a title the user chose and refuses foreign chats, bad parents and bad regenerations', async () => {
      const chat = await newChat(app, user, { title: 'Mine', messages: [{ role: 'assistant', content: 'a' }] });
      const assistantId = chat.chat.history.currentId!;
      const begun = await service.beginExchange({ userId: user.id, chatId: chat.id, model: 'm', parentId: assistantId, userMessage: { content: 'q' } });
      expect(begun.isFirstExchange).toBe(false);
      await service.setGeneratedTitle(chat.id, 'Generated');
      expect((await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token })).body.title).toBe('Mine');

      const before = await counts();
      const base = { userId: user.id, chatId: chat.id, model: 'm' };
      await expect(service.beginExchange({ ...base, userId: admin.id, parentId: null, userMessage: { content: 'x' } })).rejects.toMatchObject({ statusCode: 404 });
      await expect(service.beginExchange({ ...base, chatId: randomUUID(), parentId: null, userMessage: { content: 'x' } })).rejects.toMatchObject({ statusCode: 404 });
      await expect(service.beginExchange({ ...base, parentId: 'ghost', userMessage: { content: 'x' } })).rejects.toMatchObject({ statusCode: 400 });
      await expect(service.beginExchange({ ...base, parentId: null, regenerateUserMessageId: assistantId })).rejects.toMatchObject({ statusCode: 400 });
      await expect(service.beginExchange({ ...base, parentId: null, regenerateUserMessageId: 'ghost' })).rejects.toMatchObject({ statusCode: 400 });
      await expect(service.beginExchange({ ...base, parentId: null, userMessage: { id: begun.userMessageId, content: 'dup' } })).rejects.toMatchObject({ statusCode: 409 });
      expect(await counts()).toEqual(before);
    });

    it('finishes an answer quietly when the chat was deleted meanwhile', async () => {
      const chat = await newChat(app, user);
      const begun = await service.beginExchange({ userId: user.id, chatId: chat.id, model: 'm', parentId: null, userMessage: { content: 'q' } });
      await app.request<Chat>('DELETE', `/api/v1/chats/${chat.id}`, { token: user.token });
      await expect(service.finishAnswer(chat.id, begun.assistantMessageId, { content: 'late', status: 'done', error: null, usage: null, info: {} })).resolves.toBeUndefined();
      await expect(service.setGeneratedTitle(chat.id, 'late')).resolves.toBeUndefined();
      expect(await db().selectFrom('messages').select('id').where('id', '=', begun.assistantMessageId).execute()).toEqual([]);
    });

    it('deletes every chat of one user and their messages', async () => {
      const owner = await freshUser();
      const { chat } = await createBranched(owner);
      const kept = await createBranched(admin);
      await service.removeAll(owner.id);
      expect(await db().selectFrom('chats').select('id').where('user_id', '=', owner.id).execute()).toEqual([]);
      expect(await db().selectFrom('messages').select('id').where('chat_id', '=', chat.id).execute()).toEqual([]);
      expect((await app.request<Chat>('GET', `/api/v1/chats/${kept.chat.id}`, { token: admin.token })).status).toBe(200);
    });
  });
});
