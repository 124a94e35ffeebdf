import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedText, startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { runServer } from './support/server-process.js';
import { contentOf, eventually, parseSse, readUntilEventIds } from './support/streams.js';
import { createTestDatabase, testDialect, type TestDatabase } from './support/test-database.js';
import { testRedisUrl } from './support/test-app.js';
import { jsonOf, type Chat, type Session } from './support/wire.js';

const messages = [{ role: 'user', content: 'Survive the crash' }];

// Real processes sharing PostgreSQL and Redis: one is killed with SIGKILL mid-answer.
describe.skipIf(testDialect !== 'postgres').each(['continue', 'regenerate'] as const)('takeover after an instance dies (%s)', (mode) => {
  let fake: FakeLlm;
  let database: TestDatabase;
  let servers: Array<ReturnType<typeof runServer>>;
  let urls: string[];

  beforeAll(async () => {
    fake = await startFakeLlm({ tokenMs: 40, tokens: 40 });
    database = await createTestDatabase();
    const env = {
      DATABASE_URL: database.url,
      DATA_DIR: database.dataDir,
      REDIS_URL: testRedisUrl,
      REDIS_KEY_PREFIX: `parley-test:${randomUUID()}:`,
      OPENAI_API_BASE_URLS: `${fake.url}/v1`,
      GENERATION_LEASE_TIMEOUT: '1',
      GENERATION_TAKEOVER_MODE: mode,
      ENABLE_TITLE_GENERATION: 'false',
    };
    servers = [runServer(env), runServer(env)];
    urls = (await Promise.all(servers.map((server) => server.ready))).map((port) => `http://127.0.0.1:${port}`);
  });
  afterAll(async () => {
    for (const server of servers) server.child.kill('SIGKILL');
    await Promise.all(servers.map((server) => server.exited));
    await fake.close();
    await database.drop();
  });

  it('finishes the answer on the surviving instance and saves it once', async () => {
    const json = async <Body>(url: string, path: string, body: unknown, token?: string) => {
      const response = await fetch(url + path, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
      return jsonOf<Body>(response);
    };
    const { token } = await json<Session>(urls[0]!, '/api/v1/auths/signup', { email: 'crash@example.com', password: 'long enough pw', name: 'C' });
    const chat = await json<Chat>(urls[0]!, '/api/v1/chats/new', { chat: {} }, token);

    const response = await fetch(`${urls[0]}/api/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-model', messages, stream: true, chat_id: chat.id, parent_id: null }),
    });
    const id = response.headers.get('x-parley-generation-id')!;
    const { lastId, textSoFar: before } = await readUntilEventIds(response.body!.getReader(), 5);
    servers[0]!.child.kill('SIGKILL');
    await servers[0]!.exited;

    const resumed = await fetch(`${urls[1]}/api/chat/completions/${id}/stream`, { headers: { authorization: `Bearer ${token}`, 'last-event-id': lastId } });
    expect(resumed.status).toBe(200);
    const rest = parseSse(await resumed.text());
    const takeover = rest.findIndex((event) => event.data?.parley?.event === 'takeover');
    expect(rest[takeover]?.data.parley.mode).toBe(mode);
    expect(rest.at(-1)?.data).toBe('[DONE]');
    const full = expectedText({ model: 'fake-model', messages }, 40);
    if (mode === 'continue') expect(before + contentOf(rest.map((event) => event.data))).toBe(full);
    // Regenerating: the client drops what it had at the takeover event and shows the fresh answer.
    else expect(contentOf(rest.slice(takeover + 1).map((event) => event.data))).toBe(full);

    const saved = await eventually(async () => {
      const got = await jsonOf<Chat>(await fetch(`${urls[1]}/api/v1/chats/${chat.id}`, { headers: { authorization: `Bearer ${token}` } }));
      const answer = got.chat.messages.at(-1);
      return answer?.done ? answer : undefined;
    });
    expect(saved.content).toBe(full);
    expect(saved.error).toBeFalsy();

    // A later resume from a batch after the takeover must not announce it again (a client would drop text).
    const afterTakeover = rest.findLast((event) => event.id !== undefined && rest.indexOf(event) > takeover);
    const again = parseSse(await (await fetch(`${urls[1]}/api/chat/completions/${id}/stream`, { headers: { authorization: `Bearer ${token}`, 'last-event-id': afterTakeover!.id! } })).text());
    expect(again.some((event) => event.data?.parley?.event === 'takeover')).toBe(false);
    expect(again.at(-1)?.data).toBe('[DONE]');
    // From the batch just before it, it is announced again: the client may not have seen it.
    const beforeTakeover = rest.slice(0, takeover).findLast((event) => event.id !== undefined)?.id ?? lastId;
    const replay = parseSse(await (await fetch(`${urls[1]}/api/chat/completions/${id}/stream`, { headers: { authorization: `Bearer ${token}`, 'last-event-id': beforeTakeover } })).text());
    expect(replay.some((event) => event.data?.parley?.event === 'takeover')).toBe(true);
    const stored = await jsonOf<Chat>(await fetch(`${urls[1]}/api/v1/chats/${chat.id}`, { headers: { authorization: `Bearer ${token}` } }));
    const answers = Object.values(stored.chat.history.messages).filter((message) => message.role === 'assistant');
    expect(answers).toHaveLength(1);
  });
});
