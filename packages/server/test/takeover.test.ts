import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedText, startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { sample } from './support/metrics.js';
import { runServer } from './support/server-process.js';
import { contentOf, eventually, parseSse, readUntilEventIds } from './support/streams.js';
import { createTestDatabase, testDialect, type TestDatabase } from './support/test-database.js';
import { testRedisUrl } from './support/test-app.js';
import { jsonOf, type Chat } from './support/wire.js';
import { takeoverBudget } from '../src/features/generations/generation-log.js';

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

/** The environment of instances sharing one database and Redis, with one-second leases, against `fake`. */
function clusterEnv(fake: FakeLlm, database: TestDatabase, mode?: 'continue' | 'regenerate'): Record<string, string> {
  return {
    DATABASE_URL: database.url,
    DATA_DIR: database.dataDir,
    REDIS_URL: testRedisUrl,
    REDIS_KEY_PREFIX: `parley-test:${randomUUID()}:`,
    OPENAI_API_BASE_URLS: `${fake.url}/v1`,
    GENERATION_LEASE_TIMEOUT: '1',
    ...(mode ? { GENERATION_TAKEOVER_MODE: mode } : {}),
    ENABLE_TITLE_GENERATION: 'false',
  };
}

/** Two instances of one cluster (`mode` unset: default settings). */
async function startPair(fake: FakeLlm, database: TestDatabase, mode?: 'continue' | 'regenerate') {
  const env = clusterEnv(fake, database, mode);
  const servers = [runServer(env), runServer(env)];
  const urls = (await Promise.all(servers.map((server) => server.ready))).map((port) => `http://127.0.0.1:${port}`);
  return { servers, urls, env };
}

/** What a client that follows the rule in docs/api.mds shows: text appended, dropped at a `regenerate` takeover. */
function shownText(events: ReturnType<typeof parseSse>, before: string): string {
  let text = before;
  for (const { data } of events) {
    if (data?.parley?.event === 'takeover' && data.parley.mode === 'regenerate') text = '';
    else text += contentOf([data]);
  }
  return text;
}

/** Signs the first user (the admin) up on `url`, starts a saved answer there and reads five of its batches. */
async function startAnswer(url: string, model = 'fake-model', batches = 5) {
  const { token } = await postJson(url, '/api/v1/auths/signup', { email: 'crash@example.com', password: 'long enough pw', name: 'C' });
  return { token, ...(await askInChat(url, token, model, batches)) };
}

/** Starts a saved answer in a new chat of the caller's and reads `batches` of its batches. */
async function askInChat(url: string, token: string, model = 'fake-model', batches = 5) {
  const chat = await postJson(url, '/api/v1/chats/new', { chat: {} }, token);
  const response = await fetch(`${url}/api/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages, stream: true, chat_id: chat.id, parent_id: null }),
  });
  const id = response.headers.get('x-parley-generation-id')!;
  const { lastId, textSoFar } = await readUntilEventIds(response.body!.getReader(), batches);
  return { chat, id, lastId, textSoFar };
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

// Default settings against an upstream that, like OpenAI's API, answers again from the start when sent a partial answer.
describe.skipIf(testDialect !== 'postgres')('takeover with default settings, upstream ignoring a trailing assistant message', () => {
  let fake: FakeLlm;
  let database: TestDatabase;
  let servers: Array<ReturnType<typeof runServer>>;
  let urls: string[];

  beforeAll(async () => {
    fake = await startFakeLlm({ tokenMs: 40, tokens: 40, openaiContinuation: 'restart' });
    database = await createTestDatabase();
    ({ servers, urls } = await startPair(fake, database));
  });
  afterAll(async () => {
    for (const server of servers) server.child.kill('SIGKILL');
    await Promise.all(servers.map((server) => server.exited));
    await fake.close();
    await database.drop();
  });

  it('ends every answer cut by the kill with exactly the model answer, saved and shown, no text repeated', async () => {
    const first = await startAnswer(urls[0]!);
    const answers = [first, ...(await Promise.all([2, 3].map(() => askInChat(urls[0]!, first.token))))];
    servers[0]!.child.kill('SIGKILL');
    await servers[0]!.exited;
    const full = expectedText({ model: 'fake-model', messages }, 40);

    await Promise.all(
      answers.map(async ({ chat, id, lastId, textSoFar }) => {
        // Right after the kill, while nobody holds the answer: the resume waits for the takeover.
        const resumed = await fetch(`${urls[1]}/api/chat/completions/${id}/stream`, { headers: { authorization: `Bearer ${first.token}`, 'last-event-id': lastId } });
        expect(resumed.status).toBe(200);
        const rest = parseSse(await resumed.text());
        expect(rest.find((event) => event.data?.parley)?.data).toEqual({ parley: { event: 'takeover', mode: 'regenerate' } });
        expect(rest.at(-1)?.data).toBe('[DONE]');
        expect(shownText(rest, textSoFar)).toBe(full);
        const saved = await eventually(async () => {
          const got = await jsonOf<Chat>(await fetch(`${urls[1]}/api/v1/chats/${chat.id}`, { headers: { authorization: `Bearer ${first.token}` } }));
          const answer = got.chat.messages.at(-1);
          return answer?.done ? answer : undefined;
        });
        expect(saved.content).toBe(full);
      }),
    );
  });
});

// An answer whose every instance dies in turn (as a poisoned upstream reply would make them) is given up, not spread.
describe.skipIf(testDialect !== 'postgres')('an answer that keeps losing its instance', () => {
  let fake: FakeLlm;
  let database: TestDatabase;
  let env: Record<string, string>;
  const servers: Array<ReturnType<typeof runServer>> = [];

  beforeAll(async () => {
    fake = await startFakeLlm();
    database = await createTestDatabase();
    env = clusterEnv(fake, database);
  });
  afterAll(async () => {
    for (const server of servers) server.child.kill('SIGKILL');
    await Promise.all(servers.map((server) => server.exited));
    await fake.close();
    await database.drop();
  });

  /** Starts one more instance of the cluster; returns its URL. */
  async function start(): Promise<string> {
    const server = runServer(env);
    servers.push(server);
    return `http://127.0.0.1:${await server.ready}`;
  }
  async function kill(index: number): Promise<void> {
    servers[index]!.child.kill('SIGKILL');
    await servers[index]!.exited;
  }

  it(`is taken over ${takeoverBudget} times, then ends as failed: the model is asked ${takeoverBudget + 1} times in all`, async () => {
    const first = await start();
    // stall-midstream: 3 tokens, then nothing, so every instance that takes the answer over holds it until killed.
    const { token, chat, id } = await startAnswer(first, 'stall-midstream', 1);
    const asked = () => fake.requests.filter((request) => (request.body as { model?: string } | undefined)?.model === 'stall-midstream').length;
    expect(asked()).toBe(1);
    let next = await start();
    for (let takeover = 1; takeover <= takeoverBudget; takeover++) {
      await kill(servers.length - 2);
      // The instance left takes the answer over and stalls in turn.
      await eventually(async () => (asked() === takeover + 1 ? true : undefined), 15_000);
      next = await start();
    }
    await kill(servers.length - 2);
    const answer = await eventually(async () => {
      const got = await jsonOf<Chat>(await fetch(`${next}/api/v1/chats/${chat.id}`, { headers: { authorization: `Bearer ${token}` } }));
      const message = got.chat.history.messages[id];
      return message?.error ? message : undefined;
    }, 15_000);
    expect(answer.error?.content).toMatch(new RegExp(`interrupted ${takeoverBudget + 1} times`));
    expect(asked()).toBe(takeoverBudget + 1);
    // Its log has ended: a resume gets the end, and no instance asks the model again.
    const resumed = parseSse(await (await fetch(`${next}/api/chat/completions/${id}/stream`, { headers: { authorization: `Bearer ${token}` } })).text());
    expect(resumed.at(-1)?.data).toBe('[DONE]');
    expect(asked()).toBe(takeoverBudget + 1);
  }, 120_000);
});
