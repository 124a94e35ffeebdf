import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedText, startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { sample } from './support/metrics.js';
import { runServer } from './support/server-process.js';
import { contentOf, eventually, parseSse, readUntilEventIds } from './support/streams.js';
import { createTestDatabase, testDialect, type TestDatabase } from './support/test-database.js';
import { testRedisUrl } from './support/test-app.js';
import { jsonOf, type Chat } from './support/wire.js';

const messages = [{ role: 'user', content: 'Survive the crash' }];

/** POSTs JSON and reads the JSON answer. */
async function postJson(url: string, path: string, body: unknown, token?: string) {
  const response = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return response.json();
}

/** Two instances sharing one database and Redis, with one-second leases, against `fake`. */
async function startPair(fake: FakeLlm, database: TestDatabase, mode: 'continue' | 'regenerate') {
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
  const servers = [runServer(env), runServer(env)];
  const urls = (await Promise.all(servers.map((server) => server.ready))).map((port) => `http://127.0.0.1:${port}`);
  return { servers, urls };
}

/** Signs the first user (the admin) up on `url`, starts a saved answer there and reads five of its batches. */
async function startAnswer(url: string) {
  const { token } = await postJson(url, '/api/v1/auths/signup', { email: 'crash@example.com', password: 'long enough pw', name: 'C' });
  const chat = await postJson(url, '/api/v1/chats/new', { chat: {} }, token);
  const response = await fetch(`${url}/api/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'fake-model', messages, stream: true, chat_id: chat.id, parent_id: null }),
  });
  const id = response.headers.get('x-parley-generation-id')!;
  const { lastId, textSoFar } = await readUntilEventIds(response.body!.getReader(), 5);
  return { token, chat, id, lastId, textSoFar };
}

// Real processes sharing PostgreSQL and Redis: one is killed with SIGKILL mid-answer.
describe.skipIf(testDialect !== 'postgres').each(['continue', 'regenerate'] as const)('takeover after an instance dies (%s)', (mode) => {
  let fake: FakeLlm;
  let database: TestDatabase;
  let servers: Array<ReturnType<typeof runServer>>;
  let urls: string[];

  beforeAll(async () => {
    fake = await startFakeLlm({ tokenMs: 40, tokens: 40 });
    database = await createTestDatabase();
    ({ servers, urls } = await startPair(fake, database, mode));
  });
  afterAll(async () => {
    for (const server of servers) server.child.kill('SIGKILL');
    await Promise.all(servers.map((server) => server.exited));
    await fake.close();
    await database.drop();
  });

  it('finishes the answer on the surviving instance and saves it once', async () => {
    const { token, chat, id, lastId, textSoFar: before } = await startAnswer(urls[0]!);
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

// The answer's instance dies and the upstream then refuses to continue it: the answer still ends like any other.
describe.skipIf(testDialect !== 'postgres')('takeover refused by the upstream', () => {
  let fake: FakeLlm;
  let database: TestDatabase;
  let servers: Array<ReturnType<typeof runServer>>;
  let urls: string[];

  beforeAll(async () => {
    fake = await startFakeLlm({ tokenMs: 40, tokens: 40 });
    database = await createTestDatabase();
    ({ servers, urls } = await startPair(fake, database, 'continue'));
  });
  afterAll(async () => {
    for (const server of servers) server.child.kill('SIGKILL');
    await Promise.all(servers.map((server) => server.exited));
    await fake.close();
    await database.drop();
  });

  it('saves the partial answer as an error, counted in usage and metrics, and ends the resumed stream', async () => {
    const { token, chat, id, lastId, textSoFar } = await startAnswer(urls[0]!);
    servers[0]!.child.kill('SIGKILL');
    await servers[0]!.exited;
    // The model list stays cached; continuing the answer is refused (401).
    fake.setOptions({ apiKey: 'sk-required-from-now-on' });

    const resumed = await fetch(`${urls[1]}/api/chat/completions/${id}/stream`, { headers: { authorization: `Bearer ${token}`, 'last-event-id': lastId } });
    const rest = parseSse(await resumed.text());
    expect(rest.at(-2)?.data.error.message).toMatch(/could not continue the answer/);
    expect(rest.at(-1)?.data).toBe('[DONE]');

    const answer = (await (await fetch(`${urls[1]}/api/v1/chats/${chat.id}`, { headers: { authorization: `Bearer ${token}` } })).json()).chat.messages.at(-1);
    expect(answer).toMatchObject({ done: false, error: { content: expect.stringMatching(/could not continue the answer/) } });
    expect(answer.content.startsWith(textSoFar)).toBe(true);
    const usage = await eventually(async () => {
      const summary = await (await fetch(`${urls[1]}/api/v1/analytics/summary`, { headers: { authorization: `Bearer ${token}` } })).json();
      return summary.errors === 1 ? summary : undefined;
    });
    expect(usage.messages).toBe(1);
    const metrics = await (await fetch(`${urls[1]}/metrics`)).text();
    expect(sample(metrics, 'parley_generations_finished_total', { model: 'fake-model', outcome: 'error' })).toBe(1);
    expect(sample(metrics, 'parley_generations_failed_total', { model: 'fake-model' })).toBe(1);
    expect(sample(metrics, 'parley_upstream_errors_total', { kind: 'status' })).toBe(1);
  });
});
