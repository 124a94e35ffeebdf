import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { expectedText, startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { adminAndUser, newChat, signUp, type TestUser } from './support/factories.js';
import { sample } from './support/metrics.js';
import { contentOf, eventually, listenToEvents, parseSse, readUntilEventIds } from './support/streams.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { startTestApp, testRedisUrl, type TestApp } from './support/test-app.js';
import { testDialect } from './support/test-database.js';
import { jsonOf, type ErrorBody, type Chat, type Readiness } from './support/wire.js';

const tokens = 60;
const messages = [{ role: 'user', content: 'Keep talking through the outage' }];
const fullAnswer = expectedText({ model: 'fake-model', messages }, tokens);

/** Starts a streamed completion on `app`, saved into `chatId` when given. */
function complete(app: TestApp, user: TestUser, chatId?: string) {
  return fetch(`${app.url}/api/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'fake-model', messages, stream: true, ...(chatId ? { chat_id: chatId, parent_id: null } : {}) }),
  });
}

/** The whole answer a resume from the start gives, on `app`. */
async function resumedText(app: TestApp, user: TestUser, id: string): Promise<{ status: number; text: string }> {
  const response = await fetch(`${app.url}/api/chat/completions/${id}/stream`, { headers: { authorization: `Bearer ${user.token}` } });
  if (response.status !== 200) return { status: response.status, text: '' };
  const events = parseSse(await response.text());
  expect(events.at(-1)?.data).toBe('[DONE]');
  return { status: 200, text: contentOf(events.map((event) => event.data)) };
}

// Redis behind a proxy the test cuts and restores: the instance must keep chatting without it.
describe.skipIf(testDialect !== 'postgres')('a Redis outage', () => {
  let proxy: TcpProxy;
  let fake: FakeLlm;
  let app: TestApp;
  /** A second instance of the same cluster that reaches Redis directly (it is not cut off). */
  let other: TestApp;
  let user: TestUser;
  let redis: Redis;

  const isCutOff = () => app.parley.platform.shared.isDegraded();

  /** Cuts Redis off; requests right after must not depend on the instance having noticed. */
  const cut = () => proxy.cut();
  async function restore(): Promise<number> {
    await proxy.restore();
    return Date.now();
  }

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
    fake = await startFakeLlm({ tokens });
    app = await startTestApp({
      REDIS_URL: `redis://127.0.0.1:${proxy.port}`,
      OPENAI_API_BASE_URLS: `${fake.url}/v1`,
      ENABLE_TITLE_GENERATION: 'false',
      LOGIN_RATE_LIMIT: '3',
    });
    other = await startTestApp({ REDIS_URL: testRedisUrl }, { sameClusterAs: app });
    ({ user } = await adminAndUser(app));
    redis = new Redis(testRedisUrl);
  });
  afterAll(async () => {
    await proxy.restore().catch(() => undefined);
    await other.close();
    await app.close();
    await proxy.close();
    await fake.close();
    await redis.quit();
  });

  it('streams new answers, saved or not, saying they are not resumable, and saves the saved one', async () => {
    const chat = await newChat(app, user);
    await cut();
    try {
      const started = Date.now();
      const bare = await complete(app, user);
      expect(bare.status).toBe(200);
      expect(bare.headers.get('x-parley-resumable')).toBe('false');
      const saved = await complete(app, user, chat.id);
      expect(saved.status).toBe(200);
      expect(saved.headers.get('x-parley-resumable')).toBe('false');
      expect(Date.now() - started).toBeLessThan(2000);
      // Resuming cannot work while the log is out of reach: refused (an answer only Redis knows) or cut at once, never left hanging.
      const resumeStarted = Date.now();
      const resumed = await fetch(`${app.url}/api/chat/completions/${saved.headers.get('x-parley-generation-id')}/stream`, { headers: { authorization: `Bearer ${user.token}` } })
        .then((response) => response.text())
        .then(() => 'ended', () => 'cut');
      expect(resumed).toBe('cut');
      expect(Date.now() - resumeStarted).toBeLessThan(2000);
      const unknown = await app.request<ErrorBody>('GET', `/api/chat/completions/${randomUUID()}/stream`, { token: user.token });
      expect(unknown.status).toBe(503);
      expect(unknown.headers.get('retry-after')).toBeTruthy();
      const [bareEvents, savedEvents] = await Promise.all([bare, saved].map(async (response) => parseSse(await response.text())));
      expect(contentOf(bareEvents!.map((event) => event.data))).toBe(fullAnswer);
      expect(contentOf(savedEvents!.map((event) => event.data))).toBe(fullAnswer);
      const stored = (await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token })).body;
      expect(stored.chat.messages.at(-1)).toMatchObject({ role: 'assistant', content: fullAnswer, done: true });
    } finally {
      await restore();
    }
    await eventually(async () => (isCutOff() ? undefined : true), 10_000);
    // With Redis back, a new saved answer is resumable again.
    const after = await complete(app, user, (await newChat(app, user)).id);
    expect(after.headers.get('x-parley-resumable')).toBe('true');
    await after.text();
  });

  it('signs users in with per-instance limits on failures', async () => {
    const victim = await signUp(app);
    await cut();
    try {
      const signin = await app.request('POST', '/api/v1/auths/signin', { body: { email: user.email, password: user.password } });
      expect(signin.status).toBe(200);
      const statuses: number[] = [];
      for (let attempt = 0; attempt < 5; attempt++) {
        statuses.push((await app.request('POST', '/api/v1/auths/signin', { body: { email: victim.email, password: 'wrong password' } })).status);
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      const refused = await app.request<ErrorBody>('POST', '/api/v1/auths/signin', { body: { email: victim.email, password: victim.password } });
      expect(refused.status).toBe(429);
    } finally {
      await restore();
    }
    await eventually(async () => (isCutOff() ? undefined : true), 10_000);
    // The failures counted during the outage were handed to Redis: the other instance refuses too.
    expect((await other.request('POST', '/api/v1/auths/signin', { body: { email: victim.email, password: victim.password } })).status).toBe(429);
  });

  it("stays ready, reporting Redis as a degraded dependency in /ready and in metrics", async () => {
    const redisUp = async () => sample((await app.request<string>('GET', '/metrics')).body, 'parley_dependency_up', { dependency: 'redis' });
    expect(await redisUp()).toBe(1);
    await cut();
    try {
      const ready = await app.request<Readiness>('GET', '/ready');
      expect(ready.status).toBe(200);
      expect(ready.body.status).toBe(true);
      expect(ready.body.checks).toMatchObject({ database: 'ok', migrations: 'ok', lifecycle: 'ok', storage: 'ok' });
      expect(ready.body.checks.shared).toMatch(/^degraded: /);
      expect(ready.body.degraded).toEqual(['shared']);
      expect(await redisUp()).toBe(0);
      expect((await app.request('GET', '/health')).status).toBe(200);
    } finally {
      await restore();
    }
    await eventually(async () => ((await app.request<Readiness>('GET', '/ready')).body.checks.shared === 'ok' ? true : undefined), 10_000);
    expect(await redisUp()).toBe(1);
  });

  it("delivers events to this instance's own tabs during the outage", async () => {
    const tab = await listenToEvents(app, user.token);
    // A new chat is announced as `chat:changed` (of the chat list: no chat id).
    const announced = (since: number) => async () => (tab.received.slice(since).some((event) => event.type === 'chat:changed') ? true : undefined);
    try {
      await cut();
      try {
        const since = tab.received.length;
        await newChat(app, user);
        await eventually(announced(since));
      } finally {
        await restore();
      }
      await eventually(async () => (isCutOff() ? undefined : true), 10_000);
      // Back on Redis: an event published by the other instance reaches this one's tab.
      const since = tab.received.length;
      await newChat(other, user);
      await eventually(announced(since), 5000);
    } finally {
      tab.close();
    }
  });

  it('is back within a second of Redis returning, with answers still running resumable and leased again', async () => {
    // Paced, so that both answers are still running when Redis returns.
    fake.setOptions({ tokenMs: 50 });
    const [before, during] = [await newChat(app, user), await newChat(app, user)];
    const prefix = app.env.REDIS_KEY_PREFIX!;
    // One answer started before the outage and one during it, both still running when Redis returns.
    const first = await complete(app, user, before.id);
    expect(first.status).toBe(200);
    const firstId = first.headers.get('x-parley-generation-id')!;
    const firstReader = first.body!.getReader();
    await readUntilEventIds(firstReader, 3);
    await cut();
    let restoredAt = 0;
    let secondId = '';
    let secondReader: ReadableStreamDefaultReader<Uint8Array> | undefined;
    try {
      const second = await complete(app, user, during.id);
      expect(second.status).toBe(200);
      secondId = second.headers.get('x-parley-generation-id')!;
      secondReader = second.body!.getReader();
      await readUntilEventIds(secondReader, 3);
      // Let batches of the first answer be logged while Redis is away.
      await new Promise((resolve) => setTimeout(resolve, 500));
    } finally {
      restoredAt = await restore();
    }
    const instanceLeases = async () =>
      Promise.all([firstId, secondId].map((id) => redis.get(`${prefix}lease:generation:${id}`)));
    const backAfter = await eventually(async () => {
      if (isCutOff()) return undefined;
      const owners = await instanceLeases();
      return owners.every((owner) => owner !== null) ? Date.now() - restoredAt : undefined;
    }, 10_000);
    expect(backAfter).toBeLessThan(1000);
    const [firstOwner, secondOwner] = await instanceLeases();
    expect(firstOwner).toBe(secondOwner);
    // Followed from the other instance while still running, each log holds the whole answer, in order, once.
    const [firstResumed, secondResumed] = await Promise.all([resumedText(other, user, firstId), resumedText(other, user, secondId)]);
    expect(firstResumed).toEqual({ status: 200, text: fullAnswer });
    expect(secondResumed).toEqual({ status: 200, text: fullAnswer });
    await Promise.all([firstReader.cancel(), secondReader?.cancel()]);
    const saved = await eventually(async () => {
      const got = await jsonOf<Chat>(await fetch(`${app.url}/api/v1/chats/${during.id}`, { headers: { authorization: `Bearer ${user.token}` } }));
      return got.chat.messages.at(-1)?.done ? got.chat.messages.at(-1) : undefined;
    }, 10_000);
    expect(saved.content).toBe(fullAnswer);
  });
});
