import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_IDS, startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { signUp, type TestUser } from './support/factories.js';
import { startWithUsers } from './support/start-with-users.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { connectionIds, modelsServiceOf } from './support/models.js';
import { closedPort } from './support/ports.js';
import type { Connection, ModelList } from './support/wire.js';

/** An OpenAI-style upstream whose model list (and answer delay) the test changes; `hang` makes it never answer. */
async function startListServer(options: { hang?: boolean } = {}) {
  const state = { ids: ['a'], hits: 0, delayMs: 0 };
  const server: Server = createServer((_request, response) => {
    state.hits += 1;
    if (options.hang) return;
    setTimeout(() => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ object: 'list', data: state.ids.map((id) => ({ id, object: 'model' })) }));
    }, state.delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    state,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const ollamaCreated = Date.parse('2024-01-01T00:00:00Z') / 1000;

describe('models: the merged list', () => {
  let fake: FakeLlm;
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;
  let ollamaId: string;
  let openaiId: string;

  const listIds = async (token = admin.token): Promise<string[]> =>
    (await app.request<ModelList>('GET', '/api/models', { token })).body.data.map((m) => m.id);
  const upstreamHits = () => fake.requests.filter((r) => r.path === '/v1/models' || r.path === '/api/tags').length;

  beforeAll(async () => {
    fake = await startFakeLlm();
    ({ app, admin, user } = await startWithUsers({
      OPENAI_API_BASE_URLS: `${fake.url}/v1`,
      OLLAMA_BASE_URLS: fake.url,
      AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST: '0.5',
    }));
    ({ ollamaId, openaiId } = await connectionIds(app, admin.token));
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  it('merges both connections; a later connection’s duplicate ids get @<connection name>', async () => {
    const response = await app.request<ModelList>('GET', '/api/models', { token: user.token });
    expect(response.status).toBe(200);
    expect(response.body.object).toBe('list');
    const ids = response.body.data.map((m) => m.id);
    expect(ids).toEqual([...MODEL_IDS, ...MODEL_IDS.map((id) => `${id}@OpenAI 1`)]);
    expect(response.body.data[0]).toEqual({
      id: 'fake-model',
      object: 'model',
      created: ollamaCreated,
      owned_by: 'ollama',
      name: 'fake-model',
      connection_id: ollamaId,
      connection_type: 'ollama',
    });
    expect(response.body.data[MODEL_IDS.length]).toEqual({
      id: 'fake-model@OpenAI 1',
      object: 'model',
      created: 1700000000,
      owned_by: 'openai',
      name: 'fake-model',
      connection_id: openaiId,
      connection_type: 'openai',
    });
    const v1 = await app.request('GET', '/api/v1/models/list', { token: user.token });
    expect(v1.body).toEqual(response.body);
  });

  it('answers from the cache until an admin asks for a refresh', async () => {
    await listIds();
    fake.requests.length = 0;
    await listIds(user.token);
    await listIds();
    expect(upstreamHits()).toBe(0);
    // Only an admin's refresh reaches the upstreams.
    await app.request('GET', '/api/models?refresh=true', { token: user.token });
    expect(upstreamHits()).toBe(0);
    await app.request('GET', '/api/models?refresh=true', { token: admin.token });
    expect(upstreamHits()).toBe(2);
  });

  it('skips a disabled connection, and a change takes effect at once', async () => {
    await app.request('POST', `/api/v1/connections/${ollamaId}/update`, { token: admin.token, body: { enabled: false } });
    const data = (await app.request<ModelList>('GET', '/api/models', { token: user.token })).body.data;
    expect(data.map((m) => m.id)).toEqual([...MODEL_IDS]);
    expect(data.every((m) => m.connection_id === openaiId)).toBe(true);
    await app.request('POST', `/api/v1/connections/${ollamaId}/update`, { token: admin.token, body: { enabled: true } });
    expect(await listIds()).toHaveLength(MODEL_IDS.length * 2);
  });

  it('applies the allow-list and the prefix; resolve strips them again', async () => {
    await app.request('POST', `/api/v1/connections/${openaiId}/update`, {
      token: admin.token,
      body: { prefix_id: 'oa', model_ids: ['fake-model', 'fake-model-2', 'not-served'] },
    });
    const data = (await app.request<ModelList>('GET', '/api/models', { token: user.token })).body.data;
    const fromOpenai = data.filter((m) => m.connection_id === openaiId);
    expect(fromOpenai.map((m) => [m.id, m.name])).toEqual([
      ['oa.fake-model', 'fake-model'],
      ['oa.fake-model-2', 'fake-model-2'],
    ]);
    const resolved = await modelsServiceOf(app).resolve('oa.fake-model');
    expect(resolved).toEqual({
      id: 'oa.fake-model',
      upstreamModelId: 'fake-model',
      connection: { id: openaiId, type: 'openai', baseUrl: `${fake.url}/v1`, apiKey: '', http2: false },
    });
    await app.request('POST', `/api/v1/connections/${openaiId}/update`, { token: admin.token, body: { prefix_id: '', model_ids: [] } });
    expect(await listIds()).toHaveLength(MODEL_IDS.length * 2);
  });

  it('leaves out a dead and a hanging upstream without waiting for them', async () => {
    const hanging = await startListServer({ hang: true });
    const added: string[] = [];
    for (const base_url of [`http://127.0.0.1:${await closedPort()}/v1`, `${hanging.url}/v1`]) {
      const created = await app.request<Connection>('POST', '/api/v1/connections/', { token: admin.token, body: { type: 'openai', base_url } });
      added.push(created.body.id);
    }
    const started = Date.now();
    const response = await app.request<ModelList>('GET', '/api/models', { token: user.token });
    const elapsed = Date.now() - started;
    expect(response.status).toBe(200);
    expect(elapsed).toBeLessThan(1500);
    expect(hanging.state.hits).toBe(1);
    expect(response.body.data.map((m) => m.id)).toEqual([...MODEL_IDS, ...MODEL_IDS.map((id) => `${id}@OpenAI 1`)]);
    for (const id of added) await app.request('DELETE', `/api/v1/connections/${id}`, { token: admin.token });
    await hanging.close();
  });

  it('resolves with the real key, which never enters the shared cache', async () => {
    const key = 'sk-upstream-secret-0123456789';
    fake.setOptions({ apiKey: key });
    await app.request('POST', `/api/v1/connections/${openaiId}/update`, { token: admin.token, body: { api_key: key } });
    const resolved = await modelsServiceOf(app).resolve('fake-model-2@OpenAI 1');
    expect(resolved).toEqual({
      id: 'fake-model-2@OpenAI 1',
      upstreamModelId: 'fake-model-2',
      connection: { id: openaiId, type: 'openai', baseUrl: `${fake.url}/v1`, apiKey: key, http2: false },
    });
    const cached = await app.parley.platform.shared.getCached('models:list');
    expect(cached).toBeDefined();
    expect(JSON.stringify(cached)).not.toContain(key);
    const listed = await app.request('GET', '/api/models', { token: admin.token });
    expect(JSON.stringify(listed.body)).not.toContain(key);
    fake.setOptions({ apiKey: undefined });
  });

  it('answers 404 for an unknown model', async () => {
    await expect(modelsServiceOf(app).resolve('no-such-model')).rejects.toMatchObject({
      statusCode: 404,
      code: 'not_found',
      message: "Model 'no-such-model' not found",
    });
  });

  it('refuses pending users and anonymous callers', async () => {
    const pending = await signUp(app);
    expect((await app.request('GET', '/api/models', { token: pending.token })).status).toBe(403);
    expect((await app.request('GET', '/api/models')).status).toBe(401);
    expect((await app.request('GET', '/api/models?refresh=maybe', { token: admin.token })).status).toBe(400);
  });
});

describe('models: refreshing the list', () => {
  let upstream: Awaited<ReturnType<typeof startListServer>>;
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    upstream = await startListServer();
    app = await startTestApp({ OPENAI_API_BASE_URLS: `${upstream.url}/v1` });
    admin = await signUp(app);
  });
  afterAll(async () => {
    await app.close();
    await upstream.close();
  });

  it('shares one in-flight refresh between concurrent callers', async () => {
    upstream.state.delayMs = 300;
    const models = modelsServiceOf(app);
    const before = upstream.state.hits;
    const lists = await Promise.all([
      ...Array.from({ length: 3 }, () => models.list({ refresh: true })),
      ...Array.from({ length: 3 }, () => models.list()),
    ]);
    expect(lists.every((list) => list.length === 1 && list[0]!.id === 'a')).toBe(true);
    expect(upstream.state.hits).toBe(before + 1);
    // The same through HTTP: admins' refreshes arriving together during one upstream call.
    const answers = await Promise.all(Array.from({ length: 4 }, () => app.request('GET', '/api/models?refresh=true', { token: admin.token })));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200]);
    expect(upstream.state.hits).toBe(before + 2);
    upstream.state.delayMs = 0;
  });

  it('does not cache a refresh that was under way when a connection changed', async () => {
    upstream.state.delayMs = 300;
    const connection = (await app.request<Connection[]>('GET', '/api/v1/connections/', { token: admin.token })).body[0]!;
    const hits = upstream.state.hits;
    const slow = app.request('GET', '/api/models?refresh=true', { token: admin.token });
    // The refresh is under way once the upstream has been asked.
    await expect.poll(() => upstream.state.hits, { timeout: 10_000 }).toBe(hits + 1);
    await app.request('POST', `/api/v1/connections/${connection.id}/update`, { token: admin.token, body: { model_ids: ['z'] } });
    expect((await slow).status).toBe(200);
    expect((await app.request<ModelList>('GET', '/api/models', { token: admin.token })).body.data).toEqual([]);
    await app.request('POST', `/api/v1/connections/${connection.id}/update`, { token: admin.token, body: { model_ids: [] } });
    upstream.state.delayMs = 0;
  });

  it('asks the upstreams again once for an unknown id, at most every two seconds', async () => {
    const clock = { t: Date.now(), now: () => clock.t };
    const models = modelsServiceOf(app, clock);
    expect((await models.list({ refresh: true })).map((m) => m.id)).toEqual(['a']);
    const hits = upstream.state.hits;
    upstream.state.ids.push('b');
    expect((await models.list()).map((m) => m.id)).toEqual(['a']);
    // Just built: an unknown id is refused without asking again.
    await expect(models.resolve('b')).rejects.toMatchObject({ statusCode: 404 });
    expect(upstream.state.hits).toBe(hits);
    clock.t += 5000;
    expect(await models.resolve('b')).toMatchObject({ id: 'b', upstreamModelId: 'b' });
    expect(upstream.state.hits).toBe(hits + 1);
    expect((await models.list()).map((m) => m.id)).toEqual(['a', 'b']);
    await expect(models.resolve('c')).rejects.toMatchObject({ statusCode: 404 });
    expect(upstream.state.hits).toBe(hits + 1);
  });
});
