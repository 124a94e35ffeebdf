import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { newChat, signUp, type TestUser } from './support/factories.js';
import { eventually, readSse } from './support/streams.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { testDialect } from './support/test-database.js';

/** Opens the caller's event stream and collects its events until closed. */
async function listen(app: TestApp, token: string) {
  const controller = new AbortController();
  const response = await fetch(`${app.url}/api/v1/events`, { headers: { authorization: `Bearer ${token}` }, signal: controller.signal });
  const received: Array<{ type: string; chat_id: string | null; [key: string]: unknown }> = [];
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        const blocks = buffer.split('\n\n');
        buffer = blocks.pop() ?? '';
        for (const block of blocks) {
          const data = block.split('\n').find((line) => line.startsWith('data:'));
          if (data) received.push(JSON.parse(data.slice(5)));
        }
      }
    } catch {
      // Aborted by the test.
    }
  })();
  return { response, received, close: () => controller.abort() };
}

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

  it('requires a signed-in caller', async () => {
    expect((await fetch(`${first.url}/api/v1/events`)).status).toBe(401);
  });
});
