import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newChat, promote, signUp, type TestUser } from './support/factories.js';
import { startWithUsers } from './support/start-with-users.js';
import type { TestApp } from './support/test-app.js';
import type { Chat, ChatSummary, ErrorBody, Message } from './support/wire.js';

describe('chats', () => {
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;

  beforeAll(async () => {
    ({ app, admin, user } = await startWithUsers());
  });
  afterAll(() => app.close());

  /** Signs up a fresh approved user, so listings start empty. */
  async function freshUser(): Promise<TestUser> {
    const fresh = await signUp(app);
    await promote(app, admin, fresh, 'user');
    return fresh;
  }

  const chatCount = async () => (await app.parley.platform.db.kysely.selectFrom('chats').select('id').execute()).length;
  const messageCount = async () => (await app.parley.platform.db.kysely.selectFrom('messages').select('id').execute()).length;

  it('creates a chat with the default title and returns it in Open WebUI shape', async () => {
    const chat = await newChat(app, user, { models: ['llama3'] });
    expect(chat).toMatchObject({
      user_id: user.id,
      title: 'New Chat',
      pinned: false,
      archived: false,
      meta: {},
      chat: { id: chat.id, title: 'New Chat', models: ['llama3'], history: { messages: {}, currentId: null }, messages: [] },
    });
    expect(chat.created_at).toBeGreaterThan(1_600_000_000);
    expect(chat.created_at).toBeLessThan(10_000_000_000);
    const fetched = await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token });
    expect(fetched.status).toBe(200);
    expect(fetched.body).toEqual(chat);
  });

  it('stores a flat message list as a chain whose last message is current', async () => {
    const chat = await newChat(app, user, {
      title: 'Flat',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Hello!', model: 'llama3', done: true },
      ],
    });
    const path = chat.chat.messages;
    expect(path.map((m: Message) => [m.role, m.content])).toEqual([
      ['system', 'Be brief.'],
      ['user', 'Hi'],
      ['assistant', 'Hello!'],
    ]);
    const [system, question, answer] = path as [Message, Message, Message];
    expect(system.parentId).toBeNull();
    expect(question.parentId).toBe(system.id);
    expect(answer.parentId).toBe(question.id);
    expect(system.childrenIds).toEqual([question.id]);
    expect(chat.chat.history.currentId).toBe(answer.id);
    expect(answer).toMatchObject({ model: 'llama3', done: true, error: null });
    expect(Object.keys(chat.chat.history.messages)).toHaveLength(3);
  });

  it('lists newest activity first, 50 per page, with limit/offset too, excluding archived', async () => {
    const owner = await freshUser();
    const base = 1_700_000_000;
    // Imported with explicit times so the order is known whatever the clock does.
    const items = Array.from({ length: 53 }, (_, i) => ({ chat: { title: `Chat ${i}` }, updated_at: base + i, archived: i === 52 }));
    expect((await app.request('POST', '/api/v1/chats/import', { token: owner.token, body: items })).status).toBe(200);

    const first = await app.request<ChatSummary[]>('GET', '/api/v1/chats/?page=1', { token: owner.token });
    expect(first.status).toBe(200);
    expect(first.body).toHaveLength(50);
    expect(first.body[0]).toEqual({ id: expect.any(String), title: 'Chat 51', updated_at: base + 51, created_at: expect.any(Number), pinned: false, archived: false });
    expect(first.body.map((c) => c.title)).toEqual(Array.from({ length: 50 }, (_, i) => `Chat ${51 - i}`));
    const second = await app.request<ChatSummary[]>('GET', '/api/v1/chats/list?page=2', { token: owner.token });
    expect(second.body.map((c) => c.title)).toEqual(['Chat 1', 'Chat 0']);
    const window = await app.request<ChatSummary[]>('GET', '/api/v1/chats/list?limit=3&offset=2', { token: owner.token });
    expect(window.body.map((c) => c.title)).toEqual(['Chat 49', 'Chat 48', 'Chat 47']);
    const unpaged = await app.request<ChatSummary[]>('GET', '/api/v1/chats/', { token: owner.token });
    expect(unpaged.body).toHaveLength(50);
    expect(unpaged.body[0]!.title).toBe('Chat 51');
  });

  it('searches titles and message text case-insensitively, treating % and _ literally', async () => {
    const owner = await freshUser();
    const byTitle = await newChat(app, owner, { title: 'Quarterly BUDGET review' });
    const byText = await newChat(app, owner, { title: 'Untitled', messages: [{ role: 'user', content: 'What about the Budget for Q3?' }] });
    await newChat(app, owner, { title: 'Holiday plans', messages: [{ role: 'user', content: '100% sure' }] });
    const hidden = await newChat(app, owner, { title: 'Budget archived' });
    await app.request('POST', `/api/v1/chats/${hidden.id}/archive`, { token: owner.token });
    await newChat(app, user, { title: 'budget of somebody else' });

    const found = await app.request<ChatSummary[]>('GET', '/api/v1/chats/search?text=budget', { token: owner.token });
    expect(found.status).toBe(200);
    expect(found.body.map((c) => c.id).sort()).toEqual([byTitle.id, byText.id].sort());
    const percent = await app.request<ChatSummary[]>('GET', `/api/v1/chats/search?text=${encodeURIComponent('0%')}`, { token: owner.token });
    expect(percent.body.map((c) => c.title)).toEqual(['Holiday plans']);
    const underscore = await app.request('GET', '/api/v1/chats/search?text=_', { token: owner.token });
    expect(underscore.body).toEqual([]);
    const paged = await app.request('GET', '/api/v1/chats/search?text=budget&page=2', { token: owner.token });
    expect(paged.body).toEqual([]);
  });

  it('renames a chat without touching its messages, and refuses an empty or overlong title', async () => {
    const chat = await newChat(app, user, { messages: [{ role: 'user', content: 'Keep me' }] });
    const renamed = await app.request<Chat>('POST', `/api/v1/chats/${chat.id}`, { token: user.token, body: { chat: { title: 'Renamed' } } });
    expect(renamed.status).toBe(200);
    expect(renamed.body.title).toBe('Renamed');
    expect(renamed.body.chat.history).toEqual(chat.chat.history);
    for (const title of ['', '   ', 'x'.repeat(201), 42]) {
      const refused = await app.request<ErrorBody>('POST', `/api/v1/chats/${chat.id}`, { token: user.token, body: { chat: { title } } });
      expect(refused.status).toBe(400);
      expect(refused.body.code).toBe('validation_failed');
    }
    expect((await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token })).body.title).toBe('Renamed');
  });

  it('replaces the messages when an update carries them', async () => {
    const chat = await newChat(app, user, { messages: [{ role: 'user', content: 'Old' }] });
    const updated = await app.request<Chat>('POST', `/api/v1/chats/${chat.id}`, {
      token: user.token,
      body: { chat: { messages: [{ role: 'user', content: 'New 1' }, { role: 'assistant', content: 'New 2' }], models: ['m2'] } },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.chat.messages.map((m: Message) => m.content)).toEqual(['New 1', 'New 2']);
    expect(Object.keys(updated.body.chat.history.messages)).toHaveLength(2);
    expect(updated.body.chat.models).toEqual(['m2']);
  });

  it('deletes one chat with its messages, and all of the caller\'s chats only', async () => {
    const owner = await freshUser();
    const doomed = await newChat(app, owner, { messages: [{ role: 'user', content: 'bye' }] });
    const kept = await newChat(app, owner);
    const others = await newChat(app, user);
    const deleted = await app.request('DELETE', `/api/v1/chats/${doomed.id}`, { token: owner.token });
    expect(deleted.status).toBe(200);
    expect(deleted.body).toBe(true);
    expect((await app.request('GET', `/api/v1/chats/${doomed.id}`, { token: owner.token })).status).toBe(404);
    expect((await app.request('DELETE', `/api/v1/chats/${doomed.id}`, { token: owner.token })).status).toBe(404);
    const orphans = await app.parley.platform.db.kysely.selectFrom('messages').select('id').where('chat_id', '=', doomed.id).execute();
    expect(orphans).toEqual([]);

    const all = await app.request('DELETE', '/api/v1/chats/', { token: owner.token });
    expect(all.body).toBe(true);
    expect((await app.request('GET', `/api/v1/chats/${kept.id}`, { token: owner.token })).status).toBe(404);
    expect((await app.request('GET', `/api/v1/chats/${others.id}`, { token: user.token })).status).toBe(200);
  });

  it('toggles pin and archive, and lists pinned and archived chats', async () => {
    const owner = await freshUser();
    const a = await newChat(app, owner, { title: 'A' });
    const b = await newChat(app, owner, { title: 'B' });
    const pinned = await app.request<Chat>('POST', `/api/v1/chats/${a.id}/pin`, { token: owner.token });
    expect(pinned.status).toBe(200);
    expect(pinned.body.pinned).toBe(true);
    expect((await app.request('GET', `/api/v1/chats/${a.id}/pinned`, { token: owner.token })).body).toBe(true);
    expect((await app.request('GET', `/api/v1/chats/${b.id}/pinned`, { token: owner.token })).body).toBe(false);
    expect((await app.request<ChatSummary[]>('GET', '/api/v1/chats/pinned', { token: owner.token })).body.map((c) => c.id)).toEqual([a.id]);
    const listed = await app.request<ChatSummary[]>('GET', '/api/v1/chats/', { token: owner.token });
    expect(listed.body.find((c) => c.id === a.id)!.pinned).toBe(true);

    const archived = await app.request<Chat>('POST', `/api/v1/chats/${b.id}/archive`, { token: owner.token });
    expect(archived.body.archived).toBe(true);
    expect((await app.request<ChatSummary[]>('GET', '/api/v1/chats/', { token: owner.token })).body.map((c) => c.id)).toEqual([a.id]);
    expect((await app.request<ChatSummary[]>('GET', '/api/v1/chats/archived', { token: owner.token })).body.map((c) => c.id)).toEqual([b.id]);
    const unarchived = await app.request<Chat>('POST', `/api/v1/chats/${b.id}/archive`, { token: owner.token });
    expect(unarchived.body.archived).toBe(false);
    const unpinned = await app.request<Chat>('POST', `/api/v1/chats/${a.id}/pin`, { token: owner.token });
    expect(unpinned.body.pinned).toBe(false);
    expect((await app.request('GET', '/api/v1/chats/pinned', { token: owner.token })).body).toEqual([]);

    expect((await app.request('POST', '/api/v1/chats/archive/all', { token: owner.token })).body).toBe(true);
    expect((await app.request('GET', '/api/v1/chats/', { token: owner.token })).body).toEqual([]);
    expect((await app.request('GET', '/api/v1/chats/archived', { token: owner.token })).body).toHaveLength(2);
    expect((await app.request<ChatSummary[]>('GET', '/api/v1/chats/', { token: user.token })).body.length).toBeGreaterThan(0);
    expect((await app.request('POST', '/api/v1/chats/unarchive/all', { token: owner.token })).body).toBe(true);
    expect((await app.request('GET', '/api/v1/chats/', { token: owner.token })).body).toHaveLength(2);
    expect((await app.request('GET', '/api/v1/chats/archived', { token: owner.token })).body).toEqual([]);
  });

  describe('refuses bad input with a 4xx JSON error and changes nothing', () => {
    it.each([
      ['malformed JSON', '{"chat":', 400],
      ['a missing chat field', {}, 400],
      ['a chat that is not an object', { chat: 'hello' }, 400],
      ['messages that are not a list', { chat: { messages: 'hi' } }, 400],
      ['a message with a wrong role', { chat: { messages: [{ role: 'wizard', content: 'x' }] } }, 400],
      ['a message with non-text content', { chat: { messages: [{ role: 'user', content: 5 }] } }, 400],
      ['an overlong message', { chat: { messages: [{ role: 'user', content: 'x'.repeat(1_000_001) }] } }, 400],
      ['a history whose messages are a list', { chat: { history: { messages: [], currentId: null } } }, 400],
      ['a dangling parentId', { chat: { history: { messages: { a: { role: 'user', content: 'x', parentId: 'nowhere' } }, currentId: 'a' } } }, 400],
      ['an unknown currentId', { chat: { history: { messages: { a: { role: 'user', content: 'x' } }, currentId: 'b' } } }, 400],
      ['duplicate ids in a flat list', { chat: { messages: [{ id: 'd', role: 'user', content: 'x' }, { id: 'd', role: 'user', content: 'y' }] } }, 400],
    ])('on create: %s', async (_name, body, status) => {
      const [chats, messages] = [await chatCount(), await messageCount()];
      const response = await app.request<ErrorBody>('POST', '/api/v1/chats/new', { token: user.token, body, headers: { 'content-type': 'application/json' } });
      expect(response.status).toBe(status);
      expect(typeof response.body.detail).toBe('string');
      expect([await chatCount(), await messageCount()]).toEqual([chats, messages]);
    });

    it('tolerates unknown fields in Open WebUI\'s chat JSON', async () => {
      const chat = await newChat(app, user, { tags: ['x'], params: { temperature: 0.2 }, messages: [{ role: 'user', content: 'hi', models: ['a'], extra: { deep: true } }] });
      expect(chat.chat.params).toEqual({ temperature: 0.2 });
      expect(chat.chat.messages[0]!.content).toBe('hi');
    });

    it.each([['page=0'], ['page=abc'], ['limit=0'], ['limit=5000'], ['offset=-1']])('rejects the query %s', async (query) => {
      const response = await app.request<ErrorBody>('GET', `/api/v1/chats/?${query}`, { token: user.token });
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('validation_failed');
    });

    it('answers 404 for an unknown chat and an overlong id as 400', async () => {
      const missing = await app.request<ErrorBody>('GET', '/api/v1/chats/00000000-0000-0000-0000-000000000000', { token: user.token });
      expect(missing.status).toBe(404);
      expect(missing.body.code).toBe('not_found');
      expect((await app.request('GET', `/api/v1/chats/${'x'.repeat(65)}`, { token: user.token })).status).toBe(400);
    });

    it('hides another user\'s chat behind 404 on every endpoint and leaves it unchanged', async () => {
      const theirs = await newChat(app, admin, { title: 'Private', messages: [{ role: 'user', content: 'secret' }] });
      const leaf = theirs.chat.history.currentId;
      const before = (await app.request<Chat>('GET', `/api/v1/chats/${theirs.id}`, { token: admin.token })).body;
      const attempts: [string, string, unknown?][] = [
        ['GET', `/api/v1/chats/${theirs.id}`],
        ['GET', `/api/v1/chats/${theirs.id}/export`],
        ['GET', `/api/v1/chats/${theirs.id}/pinned`],
        ['GET', `/api/v1/chats/${theirs.id}/messages/${leaf}`],
        ['POST', `/api/v1/chats/${theirs.id}`, { chat: { title: 'Hijacked', messages: [] } }],
        ['POST', `/api/v1/chats/${theirs.id}/pin`],
        ['POST', `/api/v1/chats/${theirs.id}/archive`],
        ['POST', `/api/v1/chats/${theirs.id}/clone`, {}],
        ['POST', `/api/v1/chats/${theirs.id}/messages`, { parent_id: leaf, role: 'user', content: 'injected' }],
        ['POST', `/api/v1/chats/${theirs.id}/current`, { message_id: leaf }],
        ['DELETE', `/api/v1/chats/${theirs.id}`],
      ];
      for (const [method, path, body] of attempts) {
        const response = await app.request<ErrorBody>(method, path, { token: user.token, body });
        expect(response.status, `${method} ${path}`).toBe(404);
        expect(response.body.detail).toBe('Chat not found');
      }
      expect((await app.request('GET', '/api/v1/chats/search?text=secret', { token: user.token })).body).toEqual([]);
      expect((await app.request<Chat[]>('GET', '/api/v1/chats/all', { token: user.token })).body.some((c) => c.id === theirs.id)).toBe(false);
      await app.request('DELETE', '/api/v1/chats/', { token: user.token });
      await app.request('POST', '/api/v1/chats/archive/all', { token: user.token });
      const after = await app.request('GET', `/api/v1/chats/${theirs.id}`, { token: admin.token });
      expect(after.body).toEqual(before);
    });

    it('refuses pending users (403) and anonymous callers (401)', async () => {
      const pending = await signUp(app);
      expect(pending.role).toBe('pending');
      const refused = await app.request<ErrorBody>('POST', '/api/v1/chats/new', { token: pending.token, body: { chat: {} } });
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('pending_approval');
      expect((await app.request('GET', '/api/v1/chats/', { token: pending.token })).status).toBe(403);
      expect((await app.request('GET', '/api/v1/chats/')).status).toBe(401);
    });
  });
});
