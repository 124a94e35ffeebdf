import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedText, startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { createAnalyticsService, type AnswerRecord } from '../src/features/analytics/analytics.service.js';
import type { TestUser } from './support/factories.js';
import { startWithUsers } from './support/start-with-users.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import type { ChatCompletion, ErrorBody, UsageByDayList, UsageByModelList, UsageByUserList, UsageSummary } from './support/wire.js';

const day = 86_400_000;
const may1 = Date.UTC(2024, 4, 1);
const seconds = (ms: number) => Math.floor(ms / 1000);

describe('usage analytics', () => {
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;

  /** Records an answer as if it finished at `at`. */
  async function record(at: number, answer: Partial<AnswerRecord> & { userId: string }) {
    const analytics = createAnalyticsService({ ...app.parley.platform, clock: { now: () => at } });
    await analytics.recordAnswer({ model: 'm1', connectionId: 'c1', usage: null, ttftMs: null, durationMs: 1000, status: 'done', ...answer });
    // Records are written in batches; this service is not the app's, whose reads write its own first.
    await analytics.flush();
  }
  const get = <Body>(path: string, token = admin.token) => app.request<Body>('GET', `/api/v1/analytics/${path}`, { token });

  beforeAll(async () => {
    ({ app, admin, user } = await startWithUsers());
    const usage = (prompt: number, completion: number) => ({ prompt_tokens: prompt, completion_tokens: completion });
    // May 1: the admin on two models, the last a millisecond before midnight.
    await record(may1 + 10 * 3_600_000, { userId: admin.id, model: 'm1', usage: usage(10, 20), ttftMs: 100 });
    await record(may1 + day - 1, { userId: admin.id, model: 'm2', usage: usage(5, 5), ttftMs: 300 });
    // May 2: nothing. May 3: the user, once failing, at midnight exactly.
    await record(may1 + 2 * day, { userId: user.id, model: 'm1', usage: usage(1, 2), status: 'error' });
    await record(may1 + 2 * day + 60_000, { userId: user.id, model: 'm2', usage: usage(100, 300), ttftMs: 200, status: 'stopped' });
    // May 4: an account since deleted, and an upstream that sent nonsense counts.
    await record(may1 + 3 * day + 1, { userId: 'ghost', model: 'm3', usage: usage(-5, Number.NaN), ttftMs: -1, durationMs: -10 });
    // Outside every range asked for below.
    await record(may1 - 1, { userId: admin.id, model: 'm1', usage: usage(1000, 1000) });
    await record(may1 + 10 * day, { userId: admin.id, model: 'm1', usage: usage(1000, 1000) });
  });
  afterAll(() => app.close());

  it('sums messages, tokens and active users over a range (from inclusive, to exclusive)', async () => {
    const response = await get<UsageSummary>(`summary?from=${seconds(may1)}&to=${seconds(may1 + 4 * day)}`);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      from: seconds(may1),
      to: seconds(may1 + 4 * day),
      messages: 5,
      prompt_tokens: 116,
      completion_tokens: 327,
      total_tokens: 443,
      active_users: 3,
      errors: 1,
      avg_ttft_ms: 200,
    });
    // A bare date as `to` includes that day; the epoch second form excludes its own instant.
    expect((await get('summary?from=2024-05-01&to=2024-05-01')).body).toMatchObject({ messages: 2, prompt_tokens: 15, completion_tokens: 25, active_users: 1 });
    expect((await get<UsageSummary>(`summary?from=2024-05-01&to=${seconds(may1 + 2 * day)}`)).body.messages).toBe(2);
    expect((await get('summary?from=2024-06-01&to=2024-06-02')).body).toMatchObject({ messages: 0, prompt_tokens: 0, completion_tokens: 0, active_users: 0, errors: 0, avg_ttft_ms: null });
  });

  it('counts per UTC day, with days without usage as zeros', async () => {
    const response = await get<UsageByDayList>('by-day?from=2024-05-01&to=2024-05-05');
    expect(response.status).toBe(200);
    expect(response.body.days).toEqual([
      { date: '2024-05-01', start: seconds(may1), messages: 2, prompt_tokens: 15, completion_tokens: 25, total_tokens: 40 },
      { date: '2024-05-02', start: seconds(may1 + day), messages: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      { date: '2024-05-03', start: seconds(may1 + 2 * day), messages: 2, prompt_tokens: 101, completion_tokens: 302, total_tokens: 403 },
      { date: '2024-05-04', start: seconds(may1 + 3 * day), messages: 1, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      { date: '2024-05-05', start: seconds(may1 + 4 * day), messages: 0, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    ]);
    // A range starting mid-day still names whole days, and counts only what lies inside it.
    const partial = await get<UsageByDayList>(`by-day?from=${seconds(may1 + 12 * 3_600_000)}&to=${seconds(may1 + day + 1000)}`);
    expect(partial.body.days.map((d) => [d.date, d.messages])).toEqual([
      ['2024-05-01', 1],
      ['2024-05-02', 0],
    ]);
  });

  it('counts per model, heaviest first', async () => {
    const response = await get<UsageByModelList>('by-model?from=2024-05-01&to=2024-05-04');
    expect(response.body.models).toEqual([
      { model: 'm2', messages: 2, prompt_tokens: 105, completion_tokens: 305, total_tokens: 410 },
      { model: 'm1', messages: 2, prompt_tokens: 11, completion_tokens: 22, total_tokens: 33 },
      { model: 'm3', messages: 1, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    ]);
  });

  it('counts per user with email and name, heaviest first, deleted accounts without them', async () => {
    const response = await get<UsageByUserList>('by-user?from=2024-05-01&to=2024-05-04');
    expect(response.body.users).toEqual([
      { user_id: user.id, email: user.email, name: 'Regular', messages: 2, prompt_tokens: 101, completion_tokens: 302, total_tokens: 403 },
      { user_id: admin.id, email: admin.email, name: 'Admin', messages: 2, prompt_tokens: 15, completion_tokens: 25, total_tokens: 40 },
      { user_id: 'ghost', email: null, name: null, messages: 1, prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    ]);
    expect((await get<UsageByUserList>('by-user?from=2024-05-01&to=2024-05-04&limit=1')).body.users.map((u) => u.user_id)).toEqual([user.id]);
  });

  it('defaults to the last 30 days up to now', async () => {
    const { app: fresh, admin: owner } = await startWithUsers();
    try {
      const record = async (at: number, tokens: number) => {
        const analytics = createAnalyticsService({ ...fresh.parley.platform, clock: { now: () => at } });
        await analytics.recordAnswer({ userId: owner.id, model: 'm', connectionId: null, usage: { prompt_tokens: tokens, completion_tokens: tokens + 1 }, ttftMs: 5, durationMs: 6, status: 'done' });
        await analytics.flush();
      };
      await record(Date.now() - 1000, 3);
      await record(Date.now() - 31 * day, 50);
      const summary = await fresh.request<UsageSummary>('GET', '/api/v1/analytics/summary', { token: owner.token });
      expect(summary.body).toMatchObject({ messages: 1, prompt_tokens: 3, completion_tokens: 4 });
      expect(summary.body.to - summary.body.from).toBe(30 * 86_400);
      const days = await fresh.request<UsageByDayList>('GET', '/api/v1/analytics/by-day', { token: owner.token });
      expect(days.body.days.length).toBeGreaterThanOrEqual(30);
      expect(days.body.days.at(-1)).toMatchObject({ date: new Date().toISOString().slice(0, 10), messages: 1, total_tokens: 7 });
    } finally {
      await fresh.close();
    }
  });

  it('is for admins only', async () => {
    for (const path of ['summary', 'by-user', 'by-model', 'by-day']) {
      expect((await app.request('GET', `/api/v1/analytics/${path}`)).status).toBe(401);
      expect((await get(path, user.token)).status).toBe(403);
    }
  });

  it.each([
    ['an unparseable date', 'from=last-week'],
    ['a date that does not exist', 'to=2024-13-01'],
    ['a negative time', 'from=-5'],
    ['a range that ends before it starts', 'from=2024-05-03&to=2024-05-01'],
    ['a start after now with no end', `from=${seconds(Date.now()) + 86_400}`],
  ])('answers 400 to %s on every endpoint', async (_name, query) => {
    for (const path of ['summary', 'by-user', 'by-model', 'by-day']) {
      const response = await get<ErrorBody>(`${path}?${query}`);
      expect(response.status).toBe(400);
      expect(typeof response.body.detail).toBe('string');
    }
  });

  it('answers 400 to a bad by-user limit and to a by-day range too long to draw', async () => {
    for (const limit of ['0', '1001', 'many']) expect((await get(`by-user?limit=${limit}`)).status).toBe(400);
    const tooLong = await get<ErrorBody>('by-day?from=1990-01-01&to=2024-01-01');
    expect(tooLong.status).toBe(400);
    expect(tooLong.body.detail).toMatch(/at most/);
  });

  it('never fails the caller when usage cannot be recorded', async () => {
    const broken = await startTestApp();
    try {
      await broken.parley.platform.db.kysely.schema.alterTable('usage_events').renameTo('usage_events_gone').execute();
      const analytics = createAnalyticsService(broken.parley.platform);
      await expect(
        analytics.recordAnswer({ userId: 'u', model: 'm', connectionId: null, usage: null, ttftMs: null, durationMs: 1, status: 'done' }),
      ).resolves.toBeUndefined();
      await expect(analytics.flush()).resolves.toBeUndefined();
    } finally {
      await broken.close();
    }
  });
});

describe('usage analytics: recorded as the platform serves', () => {
  let fake: FakeLlm;
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;
  const messages = [{ role: 'user', content: 'Tell me about rivers' }];

  beforeAll(async () => {
    fake = await startFakeLlm();
    ({ app, admin, user } = await startWithUsers({ OPENAI_API_BASE_URLS: `${fake.url}/v1`, OPENAI_API_KEYS: 'sk-fake' }));
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  /** Polls until `check` passes: the answer is recorded just after it is sent. */
  async function eventually<T>(read: () => Promise<T>, check: (value: T) => boolean): Promise<T> {
    const deadline = Date.now() + 5000;
    for (;;) {
      const value = await read();
      if (check(value) || Date.now() > deadline) return value;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it('counts a real completion per user, model and day', async () => {
    const response = await app.request<ChatCompletion>('POST', '/api/chat/completions', {
      token: user.token,
      body: { model: 'fake-model', messages, stream: false, max_tokens: 7 },
    });
    expect(response.status).toBe(200);
    expect(response.body.choices[0]!.message.content).toBe(expectedText({ model: 'fake-model', messages, max_tokens: 7 }));
    const usage = response.body.usage!;
    expect(usage.completion_tokens).toBe(7);

    const summary = await eventually(
      async () => (await app.request<UsageSummary>('GET', '/api/v1/analytics/summary', { token: admin.token })).body,
      (body) => body.messages === 1,
    );
    expect(summary).toMatchObject({ messages: 1, prompt_tokens: usage.prompt_tokens, completion_tokens: 7, active_users: 1, errors: 0 });
    const byUser = await app.request<UsageByUserList>('GET', '/api/v1/analytics/by-user', { token: admin.token });
    expect(byUser.body.users).toEqual([
      { user_id: user.id, email: user.email, name: 'Regular', messages: 1, prompt_tokens: usage.prompt_tokens, completion_tokens: 7, total_tokens: usage.prompt_tokens + 7 },
    ]);
    const byModel = await app.request<UsageByModelList>('GET', '/api/v1/analytics/by-model', { token: admin.token });
    expect(byModel.body.models).toMatchObject([{ model: 'fake-model', messages: 1, completion_tokens: 7 }]);
    const byDay = await app.request<UsageByDayList>('GET', '/api/v1/analytics/by-day', { token: admin.token });
    expect(byDay.body.days.at(-1)).toMatchObject({ date: new Date().toISOString().slice(0, 10), messages: 1, completion_tokens: 7 });
  });

  it('counts an answer the upstream refused before streaming as an error', async () => {
    const before = (await app.request<UsageSummary>('GET', '/api/v1/analytics/summary', { token: admin.token })).body;
    const response = await app.request('POST', '/api/chat/completions', { token: user.token, body: { model: 'fail-500', messages, stream: true } });
    expect(response.status).toBe(502);
    const summary = await eventually(
      async () => (await app.request<UsageSummary>('GET', '/api/v1/analytics/summary', { token: admin.token })).body,
      (body) => body.errors === before.errors + 1,
    );
    expect(summary).toMatchObject({ messages: before.messages + 1, errors: before.errors + 1, completion_tokens: before.completion_tokens });
    const byModel = await app.request<UsageByModelList>('GET', '/api/v1/analytics/by-model', { token: admin.token });
    expect(byModel.body.models).toContainEqual(expect.objectContaining({ model: 'fail-500', messages: 1, completion_tokens: 0 }));
  });
});
