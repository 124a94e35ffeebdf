import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { signUp, type TestUser } from './support/factories.js';
import { connectionIds, modelsServiceOf } from './support/models.js';
import { startWithUsers } from './support/start-with-users.js';
import type { TestApp } from './support/test-app.js';
import type { ErrorBody, ModelList, Preset } from './support/wire.js';

describe('models: presets', () => {
  let fake: FakeLlm;
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;
  let pending: TestUser;
  let ollamaId: string;
  let openaiId: string;

  const presets = async () => (await app.request<Preset[]>('GET', '/api/v1/models/', { token: admin.token })).body;
  const listed = async () => (await app.request<ModelList>('GET', '/api/models', { token: user.token })).body.data;
  const q = (id: string) => `?id=${encodeURIComponent(id)}`;
  const create = <Body = Preset>(body: unknown, token = admin.token) => app.request<Body>('POST', '/api/v1/models/create', { token, body });

  beforeAll(async () => {
    fake = await startFakeLlm();
    ({ app, admin, user } = await startWithUsers({ OPENAI_API_BASE_URLS: `${fake.url}/v1`, OLLAMA_BASE_URLS: fake.url }));
    pending = await signUp(app);
    ({ ollamaId, openaiId } = await connectionIds(app, admin.token));
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
    expect((await app.request<Preset>('GET', `/api/v1/models/model${q('team/helper')}`, { token: admin.token })).body).toEqual(created.body);
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
    const duplicate = await create<ErrorBody>({ id: 'team/helper', base_model_id: 'fake-model-2', name: 'Impostor' });
    expect(duplicate.status).toBe(409);
    expect(duplicate.body.code).toBe('conflict');
    expect(await presets()).toEqual(before);
  });

  it('updates a preset; params replace the stored ones and the list follows at once', async () => {
    const updated = await app.request<Preset>('POST', `/api/v1/models/model/update${q('team/helper')}`, {
      token: admin.token,
      body: { name: 'Helper 2', params: { system: 'Be very brief.', seed: 7 } },
    });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ name: 'Helper 2', meta: { description: 'Short answers' }, params: { system: 'Be very brief.', seed: 7 } });
    expect(updated.body.params).not.toHaveProperty('temperature');
    expect((await listed()).find((m) => m.id === 'team/helper')?.name).toBe('Helper 2');
    expect((await modelsServiceOf(app).resolve('team/helper')).preset).toEqual({ systemPrompt: 'Be very brief.', params: { seed: 7 } });
  });

  it('toggles a preset out of the list and back', async () => {
    const off = await app.request<Preset>('POST', `/api/v1/models/model/toggle${q('team/helper')}`, { token: admin.token });
    expect(off.body.is_active).toBe(false);
    expect((await listed()).some((m) => m.id === 'team/helper')).toBe(false);
    await expect(modelsServiceOf(app).resolve('team/helper')).rejects.toMatchObject({ statusCode: 404 });
    const on = await app.request<Preset>('POST', `/api/v1/models/model/toggle${q('team/helper')}`, { token: admin.token });
    expect(on.body.is_active).toBe(true);
    expect((await listed()).some((m) => m.id === 'team/helper')).toBe(true);
  });

  it('lists a preset only while its base model is available', async () => {
    expect((await create({ id: 'orphan', base_model_id: 'not-served', name: 'Orphan' })).status).toBe(200);
    expect((await presets()).map((p) => p.id)).toContain('orphan');
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
      const response = await app.request<ErrorBody>('POST', '/api/v1/models/create', { token: admin.token, body, headers: { 'content-type': 'application/json' } });
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
