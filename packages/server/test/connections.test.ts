import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODEL_IDS, startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { createAuditService } from '../src/features/audit/audit.service.js';
import { createConnectionsService } from '../src/features/connections/connections.service.js';
import { createSettingsService } from '../src/features/settings/settings.service.js';
import { UpstreamClient } from '../src/platform/llm/upstream-client.js';
import { signUp, type TestUser } from './support/factories.js';
import { startWithUsers } from './support/start-with-users.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { closedPort } from './support/ports.js';
import type { Connection, ConnectionTestResult, ErrorBody } from './support/wire.js';

const seededKey = 'sk-seeded-0123456789abcdef';
const fakeKey = 'sk-fake-upstream-key-987654321';

/** An HTTP server that accepts requests and never answers them. */
async function startHangingServer(): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('connections: seeding from the environment', () => {
  let fake: FakeLlm;
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    fake = await startFakeLlm({ apiKey: seededKey });
    app = await startTestApp({
      OPENAI_API_BASE_URLS: `${fake.url}/v1/`,
      OPENAI_API_KEYS: seededKey,
      OLLAMA_BASE_URLS: fake.url,
    });
    admin = await signUp(app);
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  it('creates one connection per URL on first start, key masked, trailing slash stripped', async () => {
    const response = await app.request<Connection[]>('GET', '/api/v1/connections/', { token: admin.token });
    expect(response.status).toBe(200);
    expect(response.body).toEqual([
      expect.objectContaining({ type: 'ollama', name: 'Ollama 1', base_url: fake.url, api_key: '', has_api_key: false, enabled: true, position: 0, model_ids: [] }),
      expect.objectContaining({ type: 'openai', name: 'OpenAI 1', base_url: `${fake.url}/v1`, api_key: 'sk-s…cdef', has_api_key: true, enabled: true, position: 1 }),
    ]);
    expect(JSON.stringify(response.body)).not.toContain(seededKey);
    // The seeded key is the one the upstream requires.
    const tested = await app.request('POST', `/api/v1/connections/${response.body[1]!.id}/test`, { token: admin.token });
    expect(tested.body).toMatchObject({ ok: true, models: MODEL_IDS.length });
  });

  it('does not seed again, even once the admin has deleted every connection', async () => {
    const before = await app.request<Connection[]>('GET', '/api/v1/connections/', { token: admin.token });
    for (const connection of before.body) {
      expect((await app.request('DELETE', `/api/v1/connections/${connection.id}`, { token: admin.token })).status).toBe(200);
    }
    const { platform } = app.parley;
    const audit = createAuditService(platform);
    const upstream = new UpstreamClient();
    await createConnectionsService(platform, audit, createSettingsService(platform, audit), upstream).seedFromEnvironment();
    await upstream.close();
    const after = await app.request('GET', '/api/v1/connections/', { token: admin.token });
    expect(after.body).toEqual([]);
  });
});

describe('connections: admin API', () => {
  let fake: FakeLlm;
  let hanging: Awaited<ReturnType<typeof startHangingServer>>;
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;
  let pending: TestUser;
  const seen: string[] = [];

  async function call<Body = unknown>(method: string, path: string, options: { token?: string; body?: unknown } = {}) {
    // String bodies are raw JSON text (possibly malformed), sent as JSON.
    const headers: Record<string, string> = typeof options.body === 'string' ? { 'content-type': 'application/json' } : {};
    const response = await app.request<Body>(method, path, { ...options, headers });
    seen.push(JSON.stringify(response.body));
    return response;
  }
  const list = async () => (await call<Connection[]>('GET', '/api/v1/connections/', { token: admin.token })).body;

  beforeAll(async () => {
    fake = await startFakeLlm({ apiKey: fakeKey });
    hanging = await startHangingServer();
    ({ app, admin, user } = await startWithUsers({ AIOHTTP_CLIENT_TIMEOUT_MODEL_LIST: '0.5' }));
    pending = await signUp(app);
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
    await hanging.close();
    // No answer of any kind ever carried the full key.
    expect(seen.join('\n')).not.toContain(fakeKey);
  });

  it('starts empty without environment URLs', async () => {
    expect(await list()).toEqual([]);
  });

  it('creates, reads, updates and deletes a connection, never showing the key', async () => {
    const created = await call<Connection>('POST', '/api/v1/connections/', {
      token: admin.token,
      body: { type: 'openai', name: 'Fake', base_url: `${fake.url}/v1//`, api_key: fakeKey, prefix_id: 'fk', model_ids: ['fake-model'] },
    });
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({
      type: 'openai',
      name: 'Fake',
      base_url: `${fake.url}/v1`,
      api_key: 'sk-f…4321',
      has_api_key: true,
      prefix_id: 'fk',
      model_ids: ['fake-model'],
      enabled: true,
      position: 0,
    });
    expect(created.body.created_at).toBeLessThan(Date.now() / 1000 + 1);
    const id = created.body.id;

    const fetched = await call('GET', `/api/v1/connections/${id}`, { token: admin.token });
    expect(fetched.body).toEqual(created.body);

    // A partial update keeps the stored key: the upstream still accepts it.
    const renamed = await call('POST', `/api/v1/connections/${id}/update`, { token: admin.token, body: { name: 'Renamed', enabled: false } });
    expect(renamed.body).toMatchObject({ name: 'Renamed', enabled: false, has_api_key: true, prefix_id: 'fk' });
    expect((await call<ConnectionTestResult>('POST', `/api/v1/connections/${id}/test`, { token: admin.token })).body.ok).toBe(true);

    // Sending back the masked key (as a form would) keeps the real one too.
    await call('POST', `/api/v1/connections/${id}/update`, { token: admin.token, body: { api_key: 'sk-f…4321' } });
    expect((await call<ConnectionTestResult>('POST', `/api/v1/connections/${id}/test`, { token: admin.token })).body.ok).toBe(true);

    const cleared = await call('POST', `/api/v1/connections/${id}/update`, { token: admin.token, body: { api_key: '' } });
    expect(cleared.body).toMatchObject({ api_key: '', has_api_key: false });
    expect((await call<ConnectionTestResult>('POST', `/api/v1/connections/${id}/test`, { token: admin.token })).body.ok).toBe(false);

    expect((await call('DELETE', `/api/v1/connections/${id}`, { token: admin.token })).status).toBe(200);
    expect((await call('GET', `/api/v1/connections/${id}`, { token: admin.token })).status).toBe(404);
    expect(await list()).toEqual([]);
  });

  it('masks short keys entirely and orders connections by position', async () => {
    const first = await call<Connection>('POST', '/api/v1/connections/', { token: admin.token, body: { type: 'ollama', base_url: fake.url, api_key: 'short1' } });
    const second = await call<Connection>('POST', '/api/v1/connections/', { token: admin.token, body: { type: 'openai', base_url: 'https://api.example.com/v1' } });
    expect(first.body).toMatchObject({ api_key: '…', has_api_key: true, name: new URL(fake.url).host, position: 0 });
    expect(second.body).toMatchObject({ api_key: '', name: 'api.example.com', position: 1 });
    expect(seen.join('\n')).not.toContain('short1');
    expect((await list()).map((c) => c.id)).toEqual([first.body.id, second.body.id]);
    for (const c of [first, second]) await call('DELETE', `/api/v1/connections/${c.body.id}`, { token: admin.token });
  });

  it('tests a saved or unsaved connection and reports why it failed', async () => {
    const ok = await call<ConnectionTestResult>('POST', '/api/v1/connections/test', { token: admin.token, body: { type: 'openai', base_url: `${fake.url}/v1`, api_key: fakeKey } });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ ok: true, models: MODEL_IDS.length, latency_ms: expect.any(Number) });
    const ollama = await call<ConnectionTestResult>('POST', '/api/v1/connections/test', { token: admin.token, body: { type: 'ollama', base_url: fake.url } });
    expect(ollama.body).toMatchObject({ ok: true, models: MODEL_IDS.length });

    const badKey = await call<ConnectionTestResult>('POST', '/api/v1/connections/test', { token: admin.token, body: { type: 'openai', base_url: `${fake.url}/v1`, api_key: 'sk-wrong-key-000000' } });
    expect(badKey.status).toBe(200);
    expect(badKey.body).toEqual({ ok: false, error: expect.stringMatching(/401/) });

    const refused = await call<ConnectionTestResult>('POST', '/api/v1/connections/test', { token: admin.token, body: { type: 'ollama', base_url: `http://127.0.0.1:${await closedPort()}` } });
    expect(refused.body).toEqual({ ok: false, error: expect.stringMatching(/refused/) });

    const started = Date.now();
    const slow = await call<ConnectionTestResult>('POST', '/api/v1/connections/test', { token: admin.token, body: { type: 'openai', base_url: hanging.url } });
    expect(slow.body).toEqual({ ok: false, error: expect.stringMatching(/timeout/) });
    expect(Date.now() - started).toBeLessThan(2000);

    const wrongPath = await call<ConnectionTestResult>('POST', '/api/v1/connections/test', { token: admin.token, body: { type: 'ollama', base_url: `${fake.url}/v1` } });
    expect(wrongPath.body).toEqual({ ok: false, error: expect.stringMatching(/HTTP 404/) });

    const saved = await call<Connection>('POST', '/api/v1/connections/', { token: admin.token, body: { type: 'ollama', base_url: `http://127.0.0.1:${await closedPort()}` } });
    const savedTest = await call<ConnectionTestResult>('POST', `/api/v1/connections/${saved.body.id}/test`, { token: admin.token });
    expect(savedTest.body).toMatchObject({ ok: false, error: expect.stringMatching(/refused/) });
    await call('DELETE', `/api/v1/connections/${saved.body.id}`, { token: admin.token });
  });

  describe('rejects bad input with a 4xx and changes nothing', () => {
    let existing: Connection;
    beforeAll(async () => {
      existing = (await call<Connection>('POST', '/api/v1/connections/', { token: admin.token, body: { type: 'ollama', name: 'Keep', base_url: fake.url } })).body;
    });

    it.each([
      ['a bad URL', { type: 'openai', base_url: 'not a url' }],
      ['a non-http URL', { type: 'openai', base_url: 'file:///etc/passwd' }],
      ['a bad type', { type: 'azure', base_url: 'http://example.com' }],
      ['a missing base_url', { type: 'openai' }],
      ['wrong types', { type: 'openai', base_url: 'http://example.com', enabled: 'yes', model_ids: 'fake-model' }],
      ['a prefix with a dot', { type: 'openai', base_url: 'http://example.com', prefix_id: 'a.b' }],
      ['malformed JSON', '{"type": "openai", '],
    ])('create with %s', async (_name, body) => {
      const before = await list();
      const response = await call<ErrorBody>('POST', '/api/v1/connections/', { token: admin.token, body });
      expect(response.status).toBe(400);
      expect(response.body.code).toBe(typeof body === 'string' ? 'malformed_json' : 'validation_failed');
      expect(typeof response.body.detail).toBe('string');
      expect(await list()).toEqual(before);
    });

    it('update with a bad URL, bad type or malformed JSON', async () => {
      const before = await list();
      for (const body of [{ base_url: 'nope' }, { type: 'azure' }, { name: '' }]) {
        expect((await call('POST', `/api/v1/connections/${existing.id}/update`, { token: admin.token, body })).status).toBe(400);
      }
      const malformed = await call<ErrorBody>('POST', `/api/v1/connections/${existing.id}/update`, { token: admin.token, body: '{"name":' });
      expect(malformed.status).toBe(400);
      expect(malformed.body.code).toBe('malformed_json');
      expect(await list()).toEqual(before);
    });

    it('unknown ids: 404 on read, update, delete and test', async () => {
      const before = await list();
      const missing = '00000000-0000-0000-0000-000000000000';
      expect((await call('GET', `/api/v1/connections/${missing}`, { token: admin.token })).status).toBe(404);
      expect((await call('POST', `/api/v1/connections/${missing}/update`, { token: admin.token, body: { name: 'x' } })).status).toBe(404);
      expect((await call('DELETE', `/api/v1/connections/${missing}`, { token: admin.token })).status).toBe(404);
      expect((await call('POST', `/api/v1/connections/${missing}/test`, { token: admin.token })).status).toBe(404);
      expect(await list()).toEqual(before);
    });

    it('non-admins get 403, pending users 403, anonymous callers 401', async () => {
      const before = await list();
      const body = { type: 'openai', base_url: 'http://example.com/v1' };
      for (const [token, status] of [
        [user.token, 403],
        [pending.token, 403],
        [undefined, 401],
      ] as const) {
        expect((await call('GET', '/api/v1/connections/', { token })).status).toBe(status);
        expect((await call('POST', '/api/v1/connections/', { token, body })).status).toBe(status);
        expect((await call('POST', `/api/v1/connections/${existing.id}/update`, { token, body: { name: 'Hacked' } })).status).toBe(status);
        expect((await call('DELETE', `/api/v1/connections/${existing.id}`, { token })).status).toBe(status);
        expect((await call('POST', '/api/v1/connections/test', { token, body })).status).toBe(status);
      }
      expect(await list()).toEqual(before);
    });
  });
});
