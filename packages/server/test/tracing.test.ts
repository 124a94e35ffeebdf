import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promptTokenCount, startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { startOtlpReceiver, type ReceivedSpan } from './support/otlp-receiver.js';
import { runServer } from './support/server-process.js';
import { redisStates, sleep, testPrefix, testRedisUrl } from './support/shared-state.js';
import { contentOf, eventually, readSse } from './support/streams.js';
import { createTestDatabase, testDialect, type TestDatabase } from './support/test-database.js';
import { jsonOf, type Chat, type Session } from './support/wire.js';

// Instrumentations must load before the modules they patch, so the server runs
// as its own process (the real entry point), exporting to a receiver in here.
// On PostgreSQL it also shares state through Redis, so pg and ioredis spans show.
const SERVER = 2;
const CLIENT = 3;
const messages = [{ role: 'user', content: 'Tell me about rivers' }];

describe('traces over OTLP/HTTP', () => {
  let fake: FakeLlm;
  const databases: TestDatabase[] = [];
  const redis = redisStates();

  beforeAll(async () => {
    fake = await startFakeLlm({ tokens: 24 });
  });
  afterAll(async () => {
    await fake.close();
    await Promise.all(databases.map((db) => db.drop()));
    if (testDialect === 'postgres') await redis.cleanUp();
  });

  /** Starts a traced server on a fresh database; `stop` sends SIGTERM and resolves with the exit code. */
  async function tracedServer(env: Record<string, string>) {
    const db = await createTestDatabase();
    databases.push(db);
    const prefix = testPrefix();
    redis.track(prefix);
    const server = runServer({
      DATABASE_URL: db.url,
      DATA_DIR: db.dataDir,
      OPENAI_API_BASE_URLS: `${fake.url}/v1`,
      ENABLE_TITLE_GENERATION: 'false',
      ENABLE_OTEL: 'true',
      OTEL_SERVICE_NAME: 'parley-under-test',
      ...(testDialect === 'postgres' ? { REDIS_URL: testRedisUrl, REDIS_KEY_PREFIX: prefix } : {}),
      ...env,
    });
    const base = `http://127.0.0.1:${await server.ready}`;
    return {
      base,
      output: server.output,
      async stop() {
        server.child.kill('SIGTERM');
        return server.exited;
      },
    };
  }

  /** Signs up the admin, opens a chat and streams an answer into it. */
  async function chatOnce(base: string) {
    const post = (path: string, body: unknown, token?: string) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify(body),
      });
    const { token } = await jsonOf<Session>(await post('/api/v1/auths/signup', { email: 'trace@example.com', password: 'long enough pw', name: 'T' }));
    const chat = await jsonOf<Chat>(await post('/api/v1/chats/new', { chat: {} }, token));
    const response = await post('/api/chat/completions', { model: 'fake-model', messages, stream: true, chat_id: chat.id, parent_id: null }, token);
    expect(response.status).toBe(200);
    const answer = contentOf(await readSse(response));
    expect(answer.length).toBeGreaterThan(0);
    // The answer is saved just after the stream's last event: wait for it.
    const saved = await eventually(async () => {
      const got = await jsonOf<Chat>(await fetch(`${base}/api/v1/chats/${chat.id}`, { headers: { authorization: `Bearer ${token}` } }));
      const last = got.chat.messages.at(-1);
      return last?.done ? last : undefined;
    });
    return { saved, answer, token: token as string };
  }

  /** True when `span` descends from `ancestor` through spans the receiver got. */
  function descendsFrom(span: ReceivedSpan, ancestor: ReceivedSpan, spans: ReceivedSpan[]): boolean {
    for (let at: ReceivedSpan | undefined = span; at; at = spans.find((s) => s.spanId === at!.parentSpanId)) {
      if (at.parentSpanId === ancestor.spanId) return true;
    }
    return false;
  }

  it('links the request, the database, Redis and the upstream call in one trace, and propagates it upstream', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const server = await tracedServer({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
      fake.requests.length = 0;
      const { saved, answer, token } = await chatOnce(server.base);
      // Spans leave in batches; shutting down must flush the last of them.
      expect(await server.stop()).toBe(0);
      const spans = receiver.spans;

      const request = spans.find((s) => s.kind === SERVER && s.name === 'POST /api/chat/completions');
      expect(request, spans.map((s) => s.name).join(', ')).toBeDefined();
      expect(request!.attributes['http.route']).toBe('/api/chat/completions');
      expect(request!.resource['service.name']).toBe('parley-under-test');
      const trace = spans.filter((s) => s.traceId === request!.traceId);
      // The request's log line names the same trace, so logs and traces join up.
      const logLine = server
        .output()
        .stdout.split('\n')
        .filter((line) => line.includes('"msg":"request"'))
        .map((line) => JSON.parse(line))
        .find((line) => line.route === '/api/chat/completions');
      expect(logLine?.traceId).toBe(request!.traceId);

      const generation = trace.find((s) => s.name === 'generation')!;
      expect(generation).toBeDefined();
      expect(descendsFrom(generation, request!, trace)).toBe(true);
      expect(generation.attributes).toMatchObject({
        'gen_ai.operation.name': 'chat',
        'gen_ai.request.model': 'fake-model',
        'gen_ai.usage.input_tokens': promptTokenCount(messages),
        'gen_ai.usage.output_tokens': 24,
        'parley.connection_id': saved.info.connection_id,
        'parley.status': 'done',
      });
      expect(generation.attributes['parley.ttft_ms']).toBe(saved.info.ttft_ms);

      const upstream = trace.find((s) => s.kind === CLIENT && String(s.attributes['url.full']).startsWith(`${fake.url}/v1/chat/completions`))!;
      expect(upstream, trace.map((s) => s.name).join(', ')).toBeDefined();
      expect(upstream.parentSpanId).toBe(generation.spanId);
      expect(upstream.attributes['http.response.status_code']).toBe(200);
      // W3C trace context reached the model server: same trace, parent is the client span.
      const upstreamCall = fake.requests.find((r) => r.path === '/v1/chat/completions')!;
      expect(upstreamCall.headers.traceparent).toBe(`00-${request!.traceId}-${upstream.spanId}-01`);

      if (testDialect === 'postgres') {
        const system = (s: ReceivedSpan) => s.attributes['db.system'] ?? s.attributes['db.system.name'];
        const queries = trace.filter((s) => system(s) === 'postgresql');
        const redisCalls = trace.filter((s) => system(s) === 'redis');
        expect(queries.length).toBeGreaterThan(0);
        expect(redisCalls.length).toBeGreaterThan(0);
        for (const span of [...queries, ...redisCalls]) expect(descendsFrom(span, request!, trace)).toBe(true);
      }
      // Neither message contents nor credentials reach the spans (the Redis log of a generation holds its text).
      const exported = JSON.stringify(spans);
      for (const secret of ['Tell me about rivers', answer.split(' ').slice(0, 3).join(' '), 'long enough pw', token]) {
        expect(exported).not.toContain(secret);
      }
      // Probes are left out of traces.
      expect(spans.some((s) => String(s.attributes['url.path']).startsWith('/ready'))).toBe(false);
    } finally {
      await receiver.close();
    }
  });

  it('continues the trace a caller sends, and records each request\'s route and status with bounded names', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const server = await tracedServer({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
      const caller = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' };
      const listed = await fetch(`${server.base}/api/v1/chats/?page=1`, { headers: { traceparent: `00-${caller.traceId}-${caller.spanId}-01` } });
      expect(listed.status).toBe(401);
      expect((await fetch(`${server.base}/api/v1/no-such-thing/42`)).status).toBe(404);
      expect(await server.stop()).toBe(0);

      const continued = receiver.spans.find((s) => s.traceId === caller.traceId);
      expect(continued, receiver.spans.map((s) => s.name).join(', ')).toMatchObject({ kind: SERVER, name: 'GET /api/v1/chats/', parentSpanId: caller.spanId });
      expect(continued!.attributes).toMatchObject({ 'http.route': '/api/v1/chats/', 'url.path': '/api/v1/chats/', 'http.response.status_code': 401 });
      // A path no route matches must not become a span name: names stay few.
      const unmatched = receiver.spans.find((s) => s.attributes['url.path'] === '/api/v1/no-such-thing/42');
      expect(unmatched?.attributes['http.response.status_code']).toBe(404);
      expect(unmatched!.name).not.toContain('no-such-thing');
    } finally {
      await receiver.close();
    }
  });

  it('traces the model list and a failed upstream call as client spans, marked by their status', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const server = await tracedServer({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url });
      const { token } = await chatOnce(server.base);
      const auth = { authorization: `Bearer ${token}` };
      expect((await fetch(`${server.base}/api/models?refresh=true`, { headers: auth })).status).toBe(200);
      const failed = await fetch(`${server.base}/api/chat/completions`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'fail-500', messages, stream: false }),
      });
      expect(failed.status).toBeGreaterThanOrEqual(400);
      expect(await server.stop()).toBe(0);
      const spans = receiver.spans;
      const clients = spans.filter((s) => s.kind === CLIENT && String(s.attributes['url.full']).startsWith(fake.url));
      const listing = clients.find((s) => s.attributes['url.full'] === `${fake.url}/v1/models` && s.attributes['http.response.status_code'] === 200);
      expect(listing, clients.map((s) => `${s.name} ${String(s.attributes['url.full'])}`).join(', ')).toMatchObject({ name: 'GET', statusCode: 0 });
      expect(listing!.attributes).toMatchObject({ 'http.request.method': 'GET', 'server.address': '127.0.0.1' });
      const refused = clients.find((s) => s.attributes['http.response.status_code'] === 500);
      expect(refused).toMatchObject({ name: 'POST', statusCode: 2 });
      expect(refused!.attributes['url.full']).toBe(`${fake.url}/v1/chat/completions`);
    } finally {
      await receiver.close();
    }
  });

  it('exports nothing when the sampler is always_off', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const server = await tracedServer({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_TRACES_SAMPLER: 'always_off' });
      fake.requests.length = 0;
      await chatOnce(server.base);
      expect(await server.stop()).toBe(0);
      expect(receiver.spans).toEqual([]);
      // The context still travels, marked "not sampled", so the upstream does not record it either.
      expect(fake.requests.find((r) => r.path === '/v1/chat/completions')!.headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    } finally {
      await receiver.close();
    }
  });

  it('keeps serving while the collector fails, warning once for many failed exports', async () => {
    const broken = await startOtlpReceiver({ failWith: 500 });
    try {
      // Batches leave every 50 ms here, so the requests below make several failed exports.
      const server = await tracedServer({ OTEL_EXPORTER_OTLP_ENDPOINT: broken.url, OTEL_BSP_SCHEDULE_DELAY: '50' });
      const { token } = await chatOnce(server.base);
      await eventually(async () => {
        expect((await fetch(`${server.base}/api/v1/chats/`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
        await sleep(60);
        return broken.exports >= 3 ? true : undefined;
      });
      expect(await server.stop()).toBe(0);
      const warnings = server.output().stdout.split('\n').filter((line) => line.includes('could not export spans'));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0]!)).toMatchObject({ level: 40, module: 'tracing' });
    } finally {
      await broken.close();
    }
  });

  it('exits promptly when the collector is unreachable', async () => {
    const gone = await startOtlpReceiver();
    await gone.close();
    const server = await tracedServer({ OTEL_EXPORTER_OTLP_ENDPOINT: gone.url });
    await chatOnce(server.base);
    // The exporter retries a refused connection; shutdown must not wait for all of its retries.
    const stopped = Date.now();
    expect(await server.stop()).toBe(0);
    expect(Date.now() - stopped).toBeLessThan(5000);
  });
});
