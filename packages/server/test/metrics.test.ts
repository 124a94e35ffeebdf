import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { newChat, signUp, type TestUser } from './support/factories.js';
import { sample } from './support/metrics.js';
import { readSse } from './support/streams.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { testDialect } from './support/test-database.js';

describe('Prometheus metrics', () => {
  let fake: FakeLlm;
  let app: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    fake = await startFakeLlm();
    app = await startTestApp({ OPENAI_API_BASE_URLS: `${fake.url}/v1`, LOGIN_RATE_LIMIT: '1', ENABLE_TITLE_GENERATION: 'false' });
    user = await signUp(app);
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  it('count requests by route template, generations, tokens and time to first token, with bounded labels', async () => {
    const chat = await newChat(app, user);
    await app.request('GET', `/api/v1/chats/${chat.id}`, { token: user.token });
    const response = await fetch(`${app.url}/api/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'count me' }], stream: true, chat_id: chat.id, parent_id: null }),
    });
    await readSse(response);
    await app.request('POST', '/api/chat/completions', { token: user.token, body: { model: 'fail-500', messages: [{ role: 'user', content: 'x' }] } });
    for (let i = 0; i < 2; i++) await app.request('POST', '/api/v1/auths/signin', { body: { email: user.email, password: 'wrong password' } });
    // The answer is counted as finished just after its stream ends: wait for that, not for a fixed time.
    await expect
      .poll(
        async () => {
          const text = await (await fetch(`${app.url}/metrics`)).text();
          return [sample(text, 'parley_generations_finished_total', { model: 'fake-model', outcome: 'done' }), sample(text, 'parley_active_streams')];
        },
        { timeout: 10_000 },
      )
      .toEqual([1, 0]);

    const metrics = await fetch(`${app.url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await metrics.text();
    expect(sample(text, 'parley_http_requests_total', { route: '/api/v1/chats/:id', method: 'GET', status: '200' })).toBe(1);
    expect(sample(text, 'parley_http_requests_total', { route: '/api/chat/completions', method: 'POST', status: '200' })).toBe(1);
    expect(sample(text, 'parley_http_requests_total', { route: '/api/chat/completions', method: 'POST', status: '502' })).toBe(1);
    expect(sample(text, 'parley_generations_started_total', { model: 'fake-model' })).toBe(1);
    expect(sample(text, 'parley_generations_finished_total', { model: 'fake-model', outcome: 'done' })).toBe(1);
    expect(sample(text, 'parley_tokens_total', { model: 'fake-model', direction: 'out' })).toBe(24);
    expect(sample(text, 'parley_generation_ttft_seconds_count', { model: 'fake-model' })).toBe(1);
    expect(sample(text, 'parley_upstream_errors_total', { kind: 'status' })).toBe(1);
    expect(sample(text, 'parley_active_streams')).toBe(0);
    expect(sample(text, 'parley_rate_limit_rejections_total', { limit: '/api/v1/auths/signin' })).toBe(1);
    expect(sample(text, 'parley_db_query_duration_seconds_count', { outcome: 'ok' })).toBeGreaterThan(0);
    expect(sample(text, 'parley_event_loop_utilization')).toBeGreaterThanOrEqual(0);
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toContain('process_resident_memory_bytes');
    if (testDialect === 'postgres') expect(sample(text, 'parley_db_pool_connections', { state: 'idle' })).toBeGreaterThanOrEqual(0);
    // No raw paths or ids as labels.
    expect(text).not.toContain(chat.id);
    expect(text).not.toContain(user.id);
  });

  it('can require a token, or move to a separate port', async () => {
    const guarded = await startTestApp({ METRICS_TOKEN: 'scrape-secret' });
    try {
      expect((await fetch(`${guarded.url}/metrics`)).status).toBe(401);
      expect((await fetch(`${guarded.url}/metrics`, { headers: { authorization: 'Bearer wrong-secret' } })).status).toBe(401);
      expect((await fetch(`${guarded.url}/metrics`, { headers: { authorization: 'Bearer scrape-secret' } })).status).toBe(200);
    } finally {
      await guarded.close();
    }
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const separate = await startTestApp({ METRICS_PORT: String(port) });
    try {
      expect((await fetch(`${separate.url}/metrics`)).status).toBe(404);
      const scraped = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('parley_http_requests_total');
    } finally {
      await separate.close();
    }
  });
});
