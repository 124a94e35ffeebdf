import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { expectedText, startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { movableClock } from './support/clock.js';
import { promote, signUp, type TestUser } from './support/factories.js';
import { startWithUsers } from './support/start-with-users.js';
import { contentOf, eventually, readSse, type SseData } from './support/streams.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { testDialect } from './support/test-database.js';
import type { TestApp } from './support/test-app.js';
import type { ErrorBody, NewApiKey, Chat, CreatedApiKey, Session } from './support/wire.js';

const messages = [{ role: 'user', content: 'Tell me about rivers' }];
const answer = expectedText({ model: 'fake-model', messages });

/** A relay-only streamed completion (no chat_id): what an API client sends. */
async function relay(app: TestApp, credential: string): Promise<{ status: number; retryAfter: string | null; events: SseData[]; error?: ErrorBody }> {
  const response = await fetch(`${app.url}/api/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'fake-model', messages, stream: true }),
  });
  if (response.status !== 200) return { status: response.status, retryAfter: response.headers.get('retry-after'), events: [], error: (await response.json()) as ErrorBody };
  return { status: 200, retryAfter: null, events: await readSse(response) };
}

/** Database queries the app has run so far, from its own metric. */
async function queriesRun(app: TestApp): Promise<number> {
  const text = await (await fetch(`${app.url}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith('parley_db_query_duration_seconds_count'))
    .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
}

async function createApiKey(app: TestApp, user: TestUser): Promise<string> {
  const response = await app.request<NewApiKey>('POST', '/api/v1/auths/api_key', { token: user.token });
  expect(response.status).toBe(200);
  return response.body.api_key;
}

async function createNamedKey(app: TestApp, user: TestUser, body: { name: string; expires_at?: number }): Promise<CreatedApiKey> {
  const response = await app.request<CreatedApiKey>('POST', '/api/v1/auths/api_keys', { token: user.token, body });
  expect(response.status).toBe(200);
  return response.body;
}

describe('the relay hot path and the credential cache', () => {
  let fake: FakeLlm;
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;
  const clock = movableClock();

  beforeAll(async () => {
    fake = await startFakeLlm();
    ({ app, admin, user } = await startWithUsers({ OPENAI_API_BASE_URLS: `${fake.url}/v1`, ENABLE_TITLE_GENERATION: 'false' }, { clock }));
    // Past the window in which the user's promotion keeps their sign-ins from being cached.
    clock.advance(6000);
  });
  afterAll(async () => {
    await app?.close();
    await fake?.close();
  });

  it('runs no database query for a relay-only completion on a warm instance, with a session or an API key', async () => {
    const key = await createApiKey(app, user);
    for (const credential of [user.token, key]) expect(contentOf((await relay(app, credential)).events)).toBe(answer);
    // Reading usage writes what this instance has kept so far, so nothing is pending below.
    expect((await app.request('GET', '/api/v1/analytics/summary', { token: admin.token })).status).toBe(200);
    // Held still, no cache expires between the warm-up and the measured completions.
    clock.hold();
    try {
      // Each scrape pings the database for parley_dependency_up: what one scrape costs is measured first.
      const scrapeCost = -(await queriesRun(app)) + (await queriesRun(app));
      const before = await queriesRun(app);
      const results = await Promise.all([relay(app, user.token), relay(app, key)]);
      const after = await queriesRun(app);
      for (const result of results) expect(contentOf(result.events)).toBe(answer);
      expect(after - before - scrapeCost).toBe(0);
    } finally {
      clock.release();
    }
  });

  it('counts usage records at once on the instance that made them', async () => {
    const summary = async () => (await app.request<{ messages: number }>('GET', '/api/v1/analytics/summary', { token: admin.token })).body.messages;
    const before = await summary();
    await relay(app, user.token);
    await relay(app, user.token);
    // The client hears the end before the answer's usage is recorded; once recorded, the summary counts it unwritten.
    await expect.poll(summary, { timeout: 2000 }).toBe(before + 2);
  });

  it('refuses a signed-out session and a deleted API key at once on the instance that revoked them', async () => {
    const session = (await app.request<Session>('POST', '/api/v1/auths/signin', { body: { email: user.email, password: user.password } })).body.token;
    const key = await createApiKey(app, user);
    for (const credential of [session, key]) expect((await app.request('GET', '/api/v1/auths/', { token: credential })).status).toBe(200);

    expect((await app.request('POST', '/api/v1/auths/signout', { token: session })).status).toBe(200);
    expect((await app.request('GET', '/api/v1/auths/', { token: session })).status).toBe(401);
    expect((await relay(app, session)).status).toBe(401);

    expect((await app.request('DELETE', '/api/v1/auths/api_key', { token: user.token })).status).toBe(200);
    expect((await app.request('GET', '/api/v1/auths/', { token: key })).status).toBe(401);
    expect((await relay(app, key)).status).toBe(401);
    // The session that deleted the key was not revoked.
    expect((await app.request('GET', '/api/v1/auths/', { token: user.token })).status).toBe(200);
  });

  it('refuses an old API key at once once it is replaced', async () => {
    const old = await createApiKey(app, user);
    expect((await relay(app, old)).status).toBe(200);
    const replacement = await createApiKey(app, user);
    expect((await relay(app, old)).status).toBe(401);
    expect((await relay(app, replacement)).status).toBe(200);
  });

  it('signs out the other sessions at once when the password changes, here or by an admin', async () => {
    const other = await signUp(app);
    await app.request('POST', '/api/v1/users/update/role', { token: admin.token, body: { id: other.id, role: 'user' } });
    const second = (await app.request<Session>('POST', '/api/v1/auths/signin', { body: { email: other.email, password: other.password } })).body.token;
    for (const credential of [other.token, second]) expect((await relay(app, credential)).status).toBe(200);

    const changed = await app.request('POST', '/api/v1/auths/update/password', { token: other.token, body: { password: other.password, new_password: 'another horse battery' } });
    expect(changed.status).toBe(200);
    expect((await relay(app, second)).status).toBe(401);
    expect((await relay(app, other.token)).status).toBe(200);

    const reset = await app.request('POST', `/api/v1/users/${other.id}/update`, { token: admin.token, body: { password: 'a third horse battery' } });
    expect(reset.status).toBe(200);
    expect((await relay(app, other.token)).status).toBe(401);
  });

  /** An approved user whose sign-ins this instance caches (past the window that follows their promotion). */
  async function cachedMember(): Promise<TestUser> {
    const member = await signUp(app);
    await promote(app, admin, member, 'user');
    clock.advance(6000);
    return member;
  }

  it('refuses a cached API key from its expiry on, though the cache entry is still fresh', async () => {
    const member = await cachedMember();
    clock.hold();
    try {
      const expiresAt = Math.floor(clock.now() / 1000) + 2;
      const key = (await createNamedKey(app, member, { name: 'short-lived', expires_at: expiresAt })).api_key;
      expect((await relay(app, key)).status).toBe(200);
      // One to two seconds on: the entry is fresh (5 s), the key is not.
      clock.advance(expiresAt * 1000 - clock.now());
      expect((await relay(app, key)).status).toBe(401);
      expect((await app.request('GET', '/api/v1/auths/', { token: key })).status).toBe(401);
    } finally {
      clock.release();
    }
  });

  it('refuses a deleted named key, then every key after a password change or an admin reset, at once', async () => {
    const member = await cachedMember();
    clock.hold();
    try {
      const [first, second] = [await createNamedKey(app, member, { name: 'first' }), await createNamedKey(app, member, { name: 'second' })];
      const defaultKey = await createApiKey(app, member);
      for (const key of [first.api_key, second.api_key, defaultKey]) expect((await relay(app, key)).status).toBe(200);

      expect((await app.request('DELETE', `/api/v1/auths/api_keys/${first.id}`, { token: member.token })).status).toBe(200);
      expect((await relay(app, first.api_key)).status).toBe(401);
      expect((await relay(app, second.api_key)).status).toBe(200);

      const password = 'another horse battery';
      const changed = await app.request('POST', '/api/v1/auths/update/password', { token: member.token, body: { password: member.password, new_password: password } });
      expect(changed.status).toBe(200);
      for (const key of [second.api_key, defaultKey]) expect((await relay(app, key)).status).toBe(401);

      const third = (await createNamedKey(app, member, { name: 'third' })).api_key;
      expect((await relay(app, third)).status).toBe(200);
      const reset = await app.request('POST', `/api/v1/users/${member.id}/update`, { token: admin.token, body: { password: 'a third horse battery' } });
      expect(reset.status).toBe(200);
      expect((await relay(app, third)).status).toBe(401);
    } finally {
      clock.release();
    }
  });

  it('writes a key\'s last use in the background when the key is answered from the cache', async () => {
    const member = await cachedMember();
    const created = await createNamedKey(app, member, { name: 'busy' });
    const { kysely } = app.parley.platform.db;
    const storedLastUse = async () => (await kysely.selectFrom('api_keys').select('last_used_at').where('id', '=', created.id).executeTakeFirstOrThrow()).last_used_at;
    clock.hold();
    try {
      // Another instance recorded a use 58 s ago: this lookup has nothing to write, and caches the key.
      const elsewhere = clock.now() - 58_000;
      await kysely.updateTable('api_keys').set({ last_used_at: elsewhere }).where('id', '=', created.id).execute();
      expect((await relay(app, created.api_key)).status).toBe(200);
      // 3 s on, the key is answered from the cache, and that use is a minute after the stored one.
      clock.advance(3000);
      expect((await relay(app, created.api_key)).status).toBe(200);
      expect(await eventually(async () => ((await storedLastUse()) === clock.now() ? true : undefined))).toBe(true);
    } finally {
      clock.release();
    }
  });

  it('applies a role change on the next request, whatever was cached', async () => {
    const member = await signUp(app);
    await app.request('POST', '/api/v1/users/update/role', { token: admin.token, body: { id: member.id, role: 'user' } });
    const key = await createApiKey(app, member);
    for (const credential of [member.token, key]) expect((await relay(app, credential)).status).toBe(200);
    await app.request('POST', '/api/v1/users/update/role', { token: admin.token, body: { id: member.id, role: 'pending' } });
    for (const credential of [member.token, key]) expect((await relay(app, credential)).status).toBe(403);
  });

  it('refuses a deleted user\'s session and API key at once', async () => {
    const doomed = await signUp(app);
    await app.request('POST', '/api/v1/users/update/role', { token: admin.token, body: { id: doomed.id, role: 'user' } });
    const key = await createApiKey(app, doomed);
    for (const credential of [doomed.token, key]) expect((await relay(app, credential)).status).toBe(200);
    expect((await app.request('DELETE', `/api/v1/users/${doomed.id}`, { token: admin.token })).status).toBe(200);
    for (const credential of [doomed.token, key]) expect((await relay(app, credential)).status).toBe(401);
  });
});

// SQLite is a file in the process and cannot go away; the blip is a PostgreSQL matter.
describe.skipIf(testDialect !== 'postgres')('a PostgreSQL blip', () => {
  let fake: FakeLlm;
  let proxy: TcpProxy;
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;
  let key: string;
  const clock = movableClock();

  /** Usage records in the database, read past the proxy. */
  async function usageRows(): Promise<number> {
    const client = new pg.Client({ connectionString: app.env.DATABASE_URL!.replace(`127.0.0.1:${proxy.port}`, '127.0.0.1:5432') });
    await client.connect();
    try {
      const { rows } = await client.query<{ count: string }>('select count(*) as count from usage_events');
      return Number(rows[0]!.count);
    } finally {
      await client.end();
    }
  }

  beforeAll(async () => {
    fake = await startFakeLlm();
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 5432 });
    ({ app, admin, user } = await startWithUsers(
      { OPENAI_API_BASE_URLS: `${fake.url}/v1`, ENABLE_TITLE_GENERATION: 'false', DATABASE_POOL_TIMEOUT: '2' },
      { clock, rewriteDatabaseUrl: (url) => url.replace('127.0.0.1:5432', `127.0.0.1:${proxy.port}`) },
    ));
    clock.advance(6000);
    key = await createApiKey(app, user);
  });
  afterAll(async () => {
    await proxy?.restore().catch(() => undefined);
    await app?.close();
    await proxy?.close();
    await fake?.close();
  });

  it('keeps relaying answers through the cut and writes their usage within a second of the return', async () => {
    for (const credential of [user.token, key]) expect((await relay(app, credential)).status).toBe(200);
    expect((await app.request('GET', '/api/v1/analytics/summary', { token: admin.token })).status).toBe(200);
    const before = await usageRows();
    const stranger = await signUp(app);

    await proxy.cut();
    try {
      for (const credential of [user.token, key]) expect(contentOf((await relay(app, credential)).events)).toBe(answer);
      // Past the cache's freshness (5 s) but within its outage grace: still honoured.
      clock.advance(10_000);
      for (const credential of [user.token, key]) expect(contentOf((await relay(app, credential)).events)).toBe(answer);
      // Someone this instance never verified cannot be checked now: a retryable 503, not a 401.
      const unverified = await relay(app, stranger.token);
      expect(unverified.status).toBe(503);
      expect(unverified.retryAfter).not.toBeNull();
    } finally {
      await proxy.restore();
    }
    const restored = Date.now();
    await eventually(async () => ((await usageRows()) === before + 4 ? true : undefined), 10_000);
    expect(Date.now() - restored).toBeLessThan(1000);
  });

  it('waits for a server that stopped answering only once: then writes fail at once, relayed answers go on, and the return is noticed within a second', async () => {
    const write = async () => {
      const started = Date.now();
      const response = await app.request<Chat | ErrorBody>('POST', '/api/v1/chats/new', { token: user.token, body: { chat: {} } });
      return { status: response.status, retryAfter: response.headers.get('retry-after'), ms: Date.now() - started };
    };
    expect((await write()).status).toBe(200);
    expect((await relay(app, user.token)).status).toBe(200);

    await proxy.stall();
    try {
      // Some write finds out: one on a connection the server dropped fails at once, the first
      // needing a new connection waits for it (DATABASE_POOL_TIMEOUT, 2 s here) and times out.
      for (let attempt = 0; ; attempt++) {
        const finder = await write();
        expect(finder.status).toBe(503);
        if (finder.ms >= 1500) break;
        expect(attempt).toBeLessThan(10);
      }
      const writes = await Promise.all(Array.from({ length: 25 }, write));
      for (const result of writes) {
        expect(result.status).toBe(503);
        expect(Number(result.retryAfter)).toBeGreaterThanOrEqual(1);
        expect(result.ms).toBeLessThan(1000);
      }
      const started = Date.now();
      expect(contentOf((await relay(app, user.token)).events)).toBe(answer);
      expect(Date.now() - started).toBeLessThan(1000);
    } finally {
      await proxy.restore();
    }
    const restored = Date.now();
    await eventually(async () => ((await write()).status === 200 ? true : undefined), 10_000);
    expect(Date.now() - restored).toBeLessThan(1000);
  });

  it('fails writes during the cut fast with 503 and Retry-After, and takes them again within a second of the return', async () => {
    const write = async () => {
      const started = Date.now();
      const response = await app.request<Chat | ErrorBody>('POST', '/api/v1/chats/new', { token: user.token, body: { chat: {} } });
      return { status: response.status, retryAfter: response.headers.get('retry-after'), ms: Date.now() - started };
    };
    expect((await write()).status).toBe(200);

    await proxy.cut();
    try {
      // More at once than the pool has connections: none waits for one.
      const writes = await Promise.all(Array.from({ length: 25 }, write));
      for (const result of writes) {
        expect(result.status).toBe(503);
        expect(Number(result.retryAfter)).toBeGreaterThanOrEqual(1);
        expect(result.ms).toBeLessThan(1000);
      }
    } finally {
      await proxy.restore();
    }
    const restored = Date.now();
    await eventually(async () => ((await write()).status === 200 ? true : undefined), 10_000);
    expect(Date.now() - restored).toBeLessThan(1000);
  });
});
