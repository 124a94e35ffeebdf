import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { newChat, signUp, type TestUser } from './support/factories.js';
import { eventually, listenToEvents as listen, readSse } from './support/streams.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { testDialect } from './support/test-database.js';

describe('user events', () => {
  let fake: FakeLlm;
  let first: TestApp;
  let second: TestApp;
  let user: TestUser;
  let other: TestUser;

  beforeAll(async () => {
    fake = await startFakeLlm();
    first = await startTestApp({ OPENAI_API_BASE_URLS: `${fake.url}/v1` });
    // With PostgreSQL and Redis, the second tab talks to a second instance.
    second = testDialect === 'postgres' ? await startTestApp({}, { sameClusterAs: first }) : first;
    user = await signUp(first);
    other = await signUp(first);
    await first.request('POST', '/api/v1/users/update/role', { token: user.token, body: { id: other.id, role: 'user' } });
  });
  afterAll(async () => {
    if (second !== first) await second.close();
    await first.close();
    await fake.close();
  });

  it("reach every tab of the user, on any instance, and no one else's", async () => {
    const tabA = await listen(first, user.token);
    const tabB = await listen(second, user.token);
    const stranger = await listen(second, other.token);
    expect(tabA.response.headers.get('content-type')).toMatch(/text\/event-stream/);
    try {
      const chat = await newChat(first, user, { title: 'Hello' });
      await second.request('POST', `/api/v1/chats/${chat.id}`, { token: user.token, body: { chat: { title: 'Renamed' } } });
      await readSse(
        await fetch(`${second.url}/api/chat/completions`, {
          method: 'POST',
          headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'hi' }], stream: true, chat_id: chat.id, parent_id: null }),
        }),
      );
      for (const tab of [tabA, tabB]) {
        await eventually(async () => (tab.received.some((event) => event.type === 'answer:done' && event.chat_id === chat.id) ? true : undefined));
        expect(tab.received.filter((event) => event.type === 'chat:changed' && event.chat_id === chat.id).length).toBeGreaterThanOrEqual(1);
      }
      await first.request('DELETE', `/api/v1/chats/${chat.id}`, { token: user.token });
      await eventually(async () => (tabB.received.some((event) => event.type === 'chat:deleted') ? true : undefined));
      expect(stranger.received).toEqual([]);
    } finally {
      tabA.close();
      tabB.close();
      stranger.close();
    }
  });

  it('tell of every change made through the chats API, once it succeeded', async () => {
    const tab = await listen(first, user.token);
    // Each answer is read for its id only.
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await second.request<{ id: string }>(method, `/api/v1/chats${path}`, { token: user.token, body });
      expect(response.status, `${method} ${path}`).toBe(200);
      return response.body;
    };
    try {
      const chat = await call('POST', '/new', { chat: { title: 'Evented' } });
      await call('POST', '/import', { chat: { title: 'Imported' } });
      await call('POST', '/archive/all');
      await call('POST', '/unarchive/all');
      await call('POST', `/${chat.id}`, { chat: { title: 'Renamed' } });
      await call('POST', `/${chat.id}/pin`);
      await call('POST', `/${chat.id}/archive`);
      await call('POST', `/${chat.id}/clone`, { title: 'Copy' });
      const message = await call('POST', `/${chat.id}/messages`, { parent_id: null, role: 'user', content: 'hello' });
      await call('POST', `/${chat.id}/current`, { message_id: message.id });
      // Reads and failures tell nobody.
      await call('GET', `/${chat.id}`);
      expect((await second.request('POST', '/api/v1/chats/no-such-chat/pin', { token: user.token })).status).toBe(404);
      await call('DELETE', `/${chat.id}`);
      await call('DELETE', '/');
      const changes = () => tab.received.filter((event) => event.type === 'chat:changed' || event.type === 'chat:deleted');
      await eventually(async () => (changes().length >= 12 ? true : undefined));
      // A new chat, an import and the all-chats actions name no chat; a clone is told under its source.
      expect(changes().map((event) => [event.type, event.chat_id])).toEqual([
        ['chat:changed', null],
        ['chat:changed', null],
        ['chat:changed', null],
        ['chat:changed', null],
        ...Array.from({ length: 6 }, () => ['chat:changed', chat.id]),
        ['chat:deleted', chat.id],
        ['chat:deleted', null],
      ]);
    } finally {
      tab.close();
    }
  });

  it('requires a signed-in caller', async () => {
    expect((await fetch(`${first.url}/api/v1/events`)).status).toBe(401);
  });
});
