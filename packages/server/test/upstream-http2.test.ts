import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedText, startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import type { TestUser } from './support/factories.js';
import { contentOf, readSse } from './support/streams.js';
import { startWithUsers } from './support/start-with-users.js';
import type { TestApp } from './support/test-app.js';
import type { Connection } from './support/wire.js';

// A connection with `http2` on talks HTTP/2 to its upstream (prior knowledge over cleartext,
// as here): answers are relayed as over HTTP/1.1, and concurrent streams share connections.

const messages = [{ role: 'user', content: 'Tell me about tides' }];
const tokens = 12;
const answer = expectedText({ model: 'fake-model', messages }, tokens);

describe('HTTP/2 to upstreams', () => {
  let fake: FakeLlm;
  let http1Only: Server;
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;

  const complete = async (model: string) => {
    const response = await fetch(`${app.url}/api/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages, stream: true }),
    });
    expect(response.status).toBe(200);
    return contentOf(await readSse(response));
  };
  const chatRequests = () => fake.requests.filter((r) => r.method === 'POST' && /chat/.test(r.path));

  beforeAll(async () => {
    fake = await startFakeLlm({ ttftMs: 50, tokenMs: 5, tokens, h2c: true });
    http1Only = createServer((_req, res) => res.end('{"data":[]}'));
    await new Promise<void>((resolve) => http1Only.listen(0, '127.0.0.1', resolve));
    ({ app, admin, user } = await startWithUsers());
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
    http1Only.closeAllConnections();
    await new Promise((resolve) => http1Only.close(resolve));
  });

  it('stores the setting, lists models and relays OpenAI and Ollama answers over HTTP/2', async () => {
    const openai = await app.request<Connection>('POST', '/api/v1/connections/', { token: admin.token, body: { type: 'openai', base_url: `${fake.url}/v1`, http2: true } });
    expect(openai.status).toBe(200);
    expect(openai.body.http2).toBe(true);
    const ollama = await app.request<Connection>('POST', '/api/v1/connections/', {
      token: admin.token,
      body: { type: 'ollama', base_url: fake.url, prefix_id: 'ol', http2: true },
    });
    expect(ollama.body.http2).toBe(true);

    expect(await complete('fake-model')).toBe(answer);
    expect(await complete('ol.fake-model')).toBe(answer);
    const listed = fake.requests.filter((r) => r.path === '/v1/models' || r.path === '/api/tags');
    expect(listed.length).toBeGreaterThanOrEqual(2);
    expect(listed.every((r) => r.httpVersion === '2.0')).toBe(true);
    expect(chatRequests().map((r) => [r.path, r.httpVersion])).toEqual([
      ['/v1/chat/completions', '2.0'],
      ['/api/chat', '2.0'],
    ]);
  });

  it('puts concurrent streams on fewer connections than streams', async () => {
    fake.requests.length = 0;
    const streams = 12;
    const texts = await Promise.all(Array.from({ length: streams }, () => complete('fake-model')));
    expect(new Set(texts)).toEqual(new Set([answer]));
    const requests = chatRequests();
    expect(requests).toHaveLength(streams);
    expect(requests.every((r) => r.httpVersion === '2.0')).toBe(true);
    expect(new Set(requests.map((r) => r.remotePort)).size).toBeLessThan(streams);
  });

  it('goes back to HTTP/1.1 when the setting is turned off', async () => {
    const [openai] = (await app.request<Connection[]>('GET', '/api/v1/connections/', { token: admin.token })).body;
    const updated = await app.request<Connection>('POST', `/api/v1/connections/${openai!.id}/update`, { token: admin.token, body: { http2: false } });
    expect(updated.body.http2).toBe(false);
    fake.requests.length = 0;
    expect(await complete('fake-model')).toBe(answer);
    expect(chatRequests().map((r) => r.httpVersion)).toEqual(['1.1']);
  });

  it('reports a server that does not speak HTTP/2 as a failed test, quickly, not a hang or a 500', async () => {
    const { port } = http1Only.address() as AddressInfo;
    const base = { type: 'openai', base_url: `http://127.0.0.1:${port}/v1` };
    const overHttp1 = await app.request('POST', '/api/v1/connections/test', { token: admin.token, body: base });
    expect(overHttp1.body).toMatchObject({ ok: true });
    const started = Date.now();
    const overHttp2 = await app.request('POST', '/api/v1/connections/test', { token: admin.token, body: { ...base, http2: true } });
    expect(overHttp2.status).toBe(200);
    expect(overHttp2.body).toEqual({ ok: false, error: expect.stringMatching(/HTTP\/2 failed .*turn HTTP\/2 off/) });
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('rejects a setting that is not a boolean with 400 and changes nothing', async () => {
    const before = (await app.request<Connection[]>('GET', '/api/v1/connections/', { token: admin.token })).body;
    for (const http2 of ['yes', 1, null]) {
      const created = await app.request('POST', '/api/v1/connections/', { token: admin.token, body: { type: 'openai', base_url: `${fake.url}/v1`, http2 } });
      expect(created.status).toBe(400);
      const updated = await app.request('POST', `/api/v1/connections/${before[0]!.id}/update`, { token: admin.token, body: { http2 } });
      expect(updated.status).toBe(400);
    }
    expect((await app.request('GET', '/api/v1/connections/', { token: admin.token })).body).toEqual(before);
  });
});
