import { createServer, type Server } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_IDS, startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { createConnectionsService } from '../src/features/connections/connections.service.js';
import { createModelsService } from '../src/features/models/models.service.js';
import type { Clock } from '../src/platform/platform.js';
import { signUp, type TestUser } from './support/factories.js';
import { startWithUsers } from './support/start-with-users.js';
import { startTestApp, type TestApp } from './support/test-app.js';

/** A port nothing listens on: bound, read, released. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

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

/** A second models service over the app's platform: same database and shared cache, callable directly. */
function modelsServiceOf(app: TestApp, clock?: Clock) {
  const platform = clock ? { ...app.parley.platform, clock } : app.parley.platform;
  return createModelsService(platform, createConnectionsService(app.parley.platform));
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
    (await app.request('GET', '/api/models', { token })).body.data.map((m: { id: string }) => m.id);
  const upstreamHits = () => fake.requests.filter((r) => r.path === '/v1/models' || r.path === '/api/tags').length;

  beforeAll(async () => {
    fake = await startFakeLlm();
    ({ app, admin, user } = await startWithUsers({
      OPENAI_API_BASE_URLS: `${fake.url}/v1`,
      OLLAMA_BASE_URLS: fake.url,
      AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST: '0.5',
    }));
    const connections = (await app.request('GET', '/api/v1/connections/', { token: admin.token })).body;
    ollamaId = connections.find((c: { type: string }) => c.type === 'ollama').id;
    openaiId = connections.find((c: { type: string }) => c.type === 'openai').id;
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  it('merges both connections; a later connection’s duplicate ids get @<connection name>', async () => {
    const response = await app.request('GET', '/api/models', { token: user.token });
    expect(response.status).toBe(200);
    expect(response.body.object).toBe('list');
    const ids = response.body.data.map((m: { id: string }) => m.id);
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
    const data = (await app.request('GET', '/api/models', { token: user.token })).body.data;
    expect(data.map((m: { id: string }) => m.id)).toEqual([...MODEL_IDS]);
    expect(data.every((m: { connection_id: string }) => m.connection_id === openaiId)).toBe(true);
    await app.request('POST', `/api/v1/connections/${ollamaId}/update`, { token: admin.token, body: { enabled: true } });
    expect(await listIds()).toHaveLength(MODEL_IDS.length * 2);
  });

  it('applies the allow-list and the prefix; resolve strips them again', async () => {
    await app.request('POST', `/api/v1/connections/${openaiId}/update`, {
      token: admin.token,
      body: { prefix_id: 'oa', model_ids: ['fake-model', 'fake-model-2', 'not-served'] },
    });
    const data = (await app.request('GET', '/api/models', { token: user.token })).body.data;
    const fromOpenai = data.filter((m: { connection_id: string }) => m.connection_id === openaiId);
    expect(fromOpenai.map((m: { id: string; name: string }) => [m.id, m.name])).toEqual([
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
      const created = await app.request('POST', '/api/v1/connections/', { token: admin.token, body: { type: 'openai', base_url } });
      added.push(created.body.id);
    }
    const started = Date.now();
    const response = await app.request('GET', '/api/models', { token: user.token });
    const elapsed = Date.now() - started;
    expect(response.status).toBe(200);
    expect(elapsed).toBeLessThan(1500);
    expect(hanging.state.hits).toBe(1);
    expect(response.body.data.map((m: { id: string }) => m.id)).toEqual([...MODEL_IDS, ...MODEL_IDS.map((id) => `${id}@OpenAI 1`)]);
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
    const connection = (await app.request('GET', '/api/v1/connections/', { token: admin.token })).body[0];
    const hits = upstream.state.hits;
    const slow = app.request('GET', '/api/models?refresh=true', { token: admin.token });
    // The refresh is under way once the upstream has been asked.
    await expect.poll(() => upstream.state.hits).toBe(hits + 1);
    await app.request('POST', `/api/v1/connections/${connection.id}/update`, { token: admin.token, body: { model_ids: ['z'] } });
    expect((await slow).status).toBe(200);
    expect((await app.request('GET', '/api/models', { token: admin.token })).body.data).toEqual([]);
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

describe('models: presets', () => {
  let fake: FakeLlm;
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;
  let pending: TestUser;
  let ollamaId: string;
  let openaiId: string;

  const presets = async () => (await app.request('GET', '/api/v1/models/', { token: admin.token })).body;
  const listed = async () => (await app.request('GET', '/api/models', { token: user.token })).body.data as Array<Record<string, unknown>>;
  const q = (id: string) => `?id=${encodeURIComponent(id)}`;
  const create = (body: unknown, token = admin.token) => app.request('POST', '/api/v1/models/create', { token, body });

  beforeAll(async () => {
    fake = await startFakeLlm();
    ({ app, admin, user } = await startWithUsers({ OPENAI_API_BASE_URLS: `${fake.url}/v1`, OLLAMA_BASE_URLS: fake.url }));
    pending = await signUp(app);
    const connections = (await app.request('GET', '/api/v1/connections/', { token: admin.token })).body;
    ollamaId = connections.find((c: { type: string }) => c.type === 'ollama').id;
    openaiId = connections.find((c: { type: string }) => c.type === 'openai').id;
    await listed(); // Warm the cache: creating a preset must invalidate it.
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  it('creates a preset in Open WebUI’s shape, lists it and resolves it with its system prompt', async () => {
    const created = await create({
      id: 'team/helper',
      base_model_id: 'fake-model',
      name: 'Helper',
      meta: { description: 'Short answers' },
      params: { system: 'Be brief.', temperature: 0.2, max_tokens: 50, top_p: null, stop: ['END'] },
    });
    expect(created.status).toBe(200);
    expect(created.body).toEqual({
      id: 'team/helper',
      base_model_id: 'fake-model',
      name: 'Helper',
      meta: { description: 'Short answers' },
      params: { system: 'Be brief.', temperature: 0.2, max_tokens: 50, stop: ['END'] },
      is_active: true,
      user_id: admin.id,
      created_at: expect.any(Number),
      updated_at: expect.any(Number),
    });
    expect((await app.request('GET', `/api/v1/models/model${q('team/helper')}`, { token: admin.token })).body).toEqual(created.body);
    expect(await presets()).toEqual([created.body]);

    expect((await listed()).find((m) => m.id === 'team/helper')).toEqual({
      id: 'team/helper',
      object: 'model',
      created: created.body.created_at,
      owned_by: 'ollama',
      name: 'Helper',
      connection_id: ollamaId,
      connection_type: 'ollama',
      base_model_id: 'fake-model',
    });
    expect(await modelsServiceOf(app).resolve('team/helper')).toEqual({
      id: 'team/helper',
      upstreamModelId: 'fake-model',
      connection: { id: ollamaId, type: 'ollama', baseUrl: fake.url, apiKey: '', http2: false },
      preset: { systemPrompt: 'Be brief.', params: { temperature: 0.2, max_tokens: 50, stop: ['END'] } },
    });
  });

  it('builds on a deduplicated base id and reaches that base’s upstream', async () => {
    expect((await create({ id: 'oa-helper', base_model_id: 'fake-model-2@OpenAI 1', name: 'OA' })).status).toBe(200);
    const resolved = await modelsServiceOf(app).resolve('oa-helper');
    expect(resolved).toMatchObject({ upstreamModelId: 'fake-model-2', connection: { id: openaiId, type: 'openai' }, preset: { systemPrompt: '', params: {} } });
    expect((await app.request('DELETE', `/api/v1/models/model/delete${q('oa-helper')}`, { token: admin.token })).status).toBe(200);
  });

  it('refuses a duplicate id with 409 and keeps the first', async () => {
    const before = await presets();
    const duplicate = await create({ id: 'team/helper', base_model_id: 'fake-model-2', name: 'Impostor' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.code).toBe('conflict');
    expect(await presets()).toEqual(before);
  });

  it('updates a preset; params replace the stored ones and the list follows at once', async () => {
    const updated = await app.request('POST', `/api/v1/models/model/update${q('team/helper')}`, {
      token: admin.token,
      body: { name: 'Helper 2', params: { system: 'Be very brief.', seed: 7 } },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: 'Helper 2', meta: { description: 'Short answers' }, params: { system: 'Be very brief.', seed: 7 } });
    expect(updated.body.params.temperature).toBeUndefined();
    expect((await listed()).find((m) => m.id === 'team/helper')?.name).toBe('Helper 2');
    expect((await modelsServiceOf(app).resolve('team/helper')).preset).toEqual({ systemPrompt: 'Be very brief.', params: { seed: 7 } });
  });

  it('toggles a preset out of the list and back', async () => {
    const off = await app.request('POST', `/api/v1/models/model/toggle${q('team/helper')}`, { token: admin.token });
    expect(off.body.is_active).toBe(false);
    expect((await listed()).some((m) => m.id === 'team/helper')).toBe(false);
    await expect(modelsServiceOf(app).resolve('team/helper')).rejects.toMatchObject({ statusCode: 404 });
    const on = await app.request('POST', `/api/v1/models/model/toggle${q('team/helper')}`, { token: admin.token });
    expect(on.body.is_active).toBe(true);
    expect((await listed()).some((m) => m.id === 'team/helper')).toBe(true);
  });

  it('lists a preset only while its base model is available', async () => {
    expect((await create({ id: 'orphan', base_model_id: 'not-served', name: 'Orphan' })).status).toBe(200);
    expect((await presets()).map((p: { id: string }) => p.id)).toContain('orphan');
    expect((await listed()).some((m) => m.id === 'orphan')).toBe(false);
    await app.request('POST', `/api/v1/connections/${ollamaId}/update`, { token: admin.token, body: { enabled: false } });
    // With Ollama off, 'fake-model' now comes from OpenAI, and the preset follows it there.
    expect((await listed()).find((m) => m.id === 'team/helper')).toMatchObject({ connection_id: openaiId, connection_type: 'openai' });
    await app.request('POST', `/api/v1/connections/${ollamaId}/update`, { token: admin.token, body: { enabled: true } });
    await app.request('DELETE', `/api/v1/models/model/delete${q('orphan')}`, { token: admin.token });
  });

  it('lets a preset under a base model’s own id override it', async () => {
    expect((await create({ id: 'fake-model-2', base_model_id: 'fake-model-2', name: 'Tuned', params: { system: 'Override' } })).status).toBe(200);
    const matches = (await listed()).filter((m) => m.id === 'fake-model-2');
    expect(matches).toEqual([expect.objectContaining({ name: 'Tuned', base_model_id: 'fake-model-2', connection_id: ollamaId })]);
    expect(await modelsServiceOf(app).resolve('fake-model-2')).toMatchObject({ upstreamModelId: 'fake-model-2', preset: { systemPrompt: 'Override' } });
    await app.request('DELETE', `/api/v1/models/model/delete${q('fake-model-2')}`, { token: admin.token });
    expect((await modelsServiceOf(app).resolve('fake-model-2')).preset).toBeUndefined();
  });

  it('deletes a preset: gone from both lists, then 404', async () => {
    expect((await create({ id: 'temp', base_model_id: 'fake-model', name: 'Temp' })).status).toBe(200);
    expect((await listed()).some((m) => m.id === 'temp')).toBe(true);
    const deleted = await app.request('DELETE', `/api/v1/models/model/delete${q('temp')}`, { token: admin.token });
    expect(deleted.status).toBe(200);
    expect((await listed()).some((m) => m.id === 'temp')).toBe(false);
    expect((await app.request('GET', `/api/v1/models/model${q('temp')}`, { token: admin.token })).status).toBe(404);
    expect((await app.request('DELETE', `/api/v1/models/model/delete${q('temp')}`, { token: admin.token })).status).toBe(404);
  });

  describe('rejects bad input with a 4xx and changes nothing', () => {
    it.each([
      ['an id with a space', { id: 'bad id', base_model_id: 'fake-model', name: 'N' }],
      ['an empty id', { id: '', base_model_id: 'fake-model', name: 'N' }],
      ['a 129-character id', { id: 'x'.repeat(129), base_model_id: 'fake-model', name: 'N' }],
      ['a missing name', { id: 'ok-id', base_model_id: 'fake-model' }],
      ['a missing base model', { id: 'ok-id', name: 'N' }],
      ['a wrong param type', { id: 'ok-id', base_model_id: 'fake-model', name: 'N', params: { temperature: 'hot' } }],
      ['an out-of-range param', { id: 'ok-id', base_model_id: 'fake-model', name: 'N', params: { top_p: 3 } }],
      ['malformed JSON', '{"id": "ok-id",'],
    ])('create with %s', async (_name, body) => {
      const before = await presets();
      const response = await app.request('POST', '/api/v1/models/create', { token: admin.token, body, headers: { 'content-type': 'application/json' } });
      expect(response.status).toBe(400);
      expect(typeof response.body.detail).toBe('string');
      expect(await presets()).toEqual(before);
    });

    it('unknown ids, a missing ?id and an id change', async () => {
      const before = await presets();
      expect((await app.request('GET', `/api/v1/models/model${q('nope')}`, { token: admin.token })).status).toBe(404);
      expect((await app.request('POST', `/api/v1/models/model/update${q('nope')}`, { token: admin.token, body: { name: 'X' } })).status).toBe(404);
      expect((await app.request('POST', `/api/v1/models/model/toggle${q('nope')}`, { token: admin.token })).status).toBe(404);
      expect((await app.request('DELETE', `/api/v1/models/model/delete${q('nope')}`, { token: admin.token })).status).toBe(404);
      expect((await app.request('GET', '/api/v1/models/model', { token: admin.token })).status).toBe(400);
      const renamed = await app.request('POST', `/api/v1/models/model/update${q('team/helper')}`, { token: admin.token, body: { id: 'other', name: 'X' } });
      expect(renamed.status).toBe(400);
      const badParams = await app.request('POST', `/api/v1/models/model/update${q('team/helper')}`, { token: admin.token, body: { params: { max_tokens: -1 } } });
      expect(badParams.status).toBe(400);
      expect(await presets()).toEqual(before);
    });

    it('non-admins and pending users get 403 on every preset route', async () => {
      const before = await presets();
      for (const token of [user.token, pending.token]) {
        expect((await app.request('GET', '/api/v1/models/', { token })).status).toBe(403);
        expect((await create({ id: 'sneaky', base_model_id: 'fake-model', name: 'S' }, token)).status).toBe(403);
        expect((await app.request('GET', `/api/v1/models/model${q('team/helper')}`, { token })).status).toBe(403);
        expect((await app.request('POST', `/api/v1/models/model/update${q('team/helper')}`, { token, body: { name: 'Hacked' } })).status).toBe(403);
        expect((await app.request('POST', `/api/v1/models/model/toggle${q('team/helper')}`, { token })).status).toBe(403);
        expect((await app.request('DELETE', `/api/v1/models/model/delete${q('team/helper')}`, { token })).status).toBe(403);
      }
      expect(await presets()).toEqual(before);
      expect((await listed()).some((m) => m.id === 'sneaky')).toBe(false);
    });
  });
});
