import { startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newChat, signUp, type TestUser } from './support/factories.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import type { AuditPage, ErrorBody } from './support/wire.js';

/** `{"a":{"a":…{"a":1}…}}`, `depth` objects deep, as raw JSON text (JSON.stringify would recurse as deep). */
function nestedJson(depth: number, leaf = '1'): string {
  return '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
}

describe('input hygiene: NUL characters and deep nesting are refused before they reach a service', () => {
  let fake: FakeLlm;
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    fake = await startFakeLlm();
    app = await startTestApp({ OPENAI_API_BASE_URLS: `${fake.url}/v1` });
    admin = await signUp(app, { name: 'Admin' });
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  const expectInvalidInput = (response: { status: number; body: unknown }, mentions: RegExp) => {
    expect(response.status).toBe(400);
    const body = response.body as ErrorBody;
    expect(body.code).toBe('invalid_input');
    expect(body.detail).toMatch(mentions);
  };

  it('refuses a sign-up whose name contains U+0000 with 400, naming the field', async () => {
    const response = await app.request('POST', '/api/v1/auths/signup', {
      body: { email: 'nul@example.com', password: 'correct horse battery', name: 'a\u0000' },
    });
    expectInvalidInput(response, /name.*U\+0000|U\+0000.*name/);
    // Nothing was created: the same address signs up cleanly afterwards.
    const retry = await app.request('POST', '/api/v1/auths/signup', { body: { email: 'nul@example.com', password: 'correct horse battery', name: 'a' } });
    expect(retry.status).toBe(200);
  });

  it('refuses U+0000 in an object key as well as in a value', async () => {
    const response = await app.request('POST', '/api/v1/chats/new', { token: admin.token, body: { chat: { params: { 'k\u0000': 1 } } } });
    expectInvalidInput(response, /U\+0000/);
  });

  it('refuses U+0000 in a path parameter', async () => {
    expectInvalidInput(await app.request('GET', '/api/v1/chats/a%00b', { token: admin.token }), /U\+0000/);
    expectInvalidInput(await app.request('DELETE', '/api/v1/users/a%00b', { token: admin.token }), /U\+0000/);
  });

  it('refuses U+0000 in a query string', async () => {
    expectInvalidInput(await app.request('GET', '/api/v1/chats/search?text=%00', { token: admin.token }), /text.*U\+0000|U\+0000.*text/);
    expectInvalidInput(await app.request('GET', '/api/v1/users/?query=a%00', { token: admin.token }), /U\+0000/);
  });

  it('still accepts the escaped text "\\u0000" (a backslash, not a NUL) and other control characters', async () => {
    const chat = await newChat(app, admin, { title: 'a \\u0000 b \u0001 c' });
    expect(chat.title).toBe('a \\u0000 b \u0001 c');
  });

  it('refuses a chat nested 5,000 deep with 400 instead of a 500', async () => {
    const response = await app.request('POST', '/api/v1/chats/new', { token: admin.token, body: `{"chat":{"params":${nestedJson(5000)}}}`, headers: { 'content-type': 'application/json' } });
    expectInvalidInput(response, /nest/);
  });

  it('refuses a completion nested 5,000 deep with 400 instead of blaming the upstream', async () => {
    const before = fake.requests.length;
    const body = `{"model":"fake-model","messages":[{"role":"user","content":"hi"}],"extra":${nestedJson(5000)}}`;
    const response = await app.request('POST', '/api/chat/completions', { token: admin.token, body, headers: { 'content-type': 'application/json' } });
    expectInvalidInput(response, /nest/);
    expect(fake.requests.length).toBe(before);
  });

  it('accepts nesting up to the limit: an Open WebUI chat is far shallower', async () => {
    // 64 levels in all: the body's object, the chat's, then 62 in `params`.
    const response = await app.request('POST', '/api/v1/chats/new', { token: admin.token, body: `{"chat":{"params":${nestedJson(62)}}}`, headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(200);
    const tooDeep = await app.request('POST', '/api/v1/chats/new', { token: admin.token, body: `{"chat":{"params":${nestedJson(63)}}}`, headers: { 'content-type': 'application/json' } });
    expectInvalidInput(tooDeep, /nest/);
  });

  it('counts arrays as nesting too', async () => {
    const body = `{"chat":{"params":{"a":${'['.repeat(5000)}${']'.repeat(5000)}}}}`;
    expectInvalidInput(await app.request('POST', '/api/v1/chats/new', { token: admin.token, body, headers: { 'content-type': 'application/json' } }), /nest/);
  });
});

describe('client request ids', () => {
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await signUp(app, { name: 'Admin' });
  });
  afterAll(() => app.close());

  /** Signs up with `requestId` as X-Request-Id; returns the echoed id and the audit event's stored one. */
  async function signUpWithRequestId(requestId: string) {
    const email = `rid-${Math.random().toString(36).slice(2)}@example.com`;
    const response = await app.request<{ id: string; token: string }>('POST', '/api/v1/auths/signup', {
      body: { email, password: 'correct horse battery', name: 'Request Id' },
      headers: { 'x-request-id': requestId },
    });
    expect(response.status).toBe(200);
    const audit = await app.request<AuditPage>('GET', `/api/v1/audit/?action=auth.signup&target=${response.body.id}`, { token: admin.token });
    expect(audit.status).toBe(200);
    return { echoed: response.headers.get('x-request-id'), stored: audit.body.events[0]!.request_id };
  }

  it('keeps a well-formed client id: echoed and stored as sent', async () => {
    const { echoed, stored } = await signUpWithRequestId('req-1234.abcd:EF_9');
    expect(echoed).toBe('req-1234.abcd:EF_9');
    expect(stored).toBe('req-1234.abcd:EF_9');

    const longest = 'a'.repeat(128);
    const second = await signUpWithRequestId(longest);
    expect(second.echoed).toBe(longest);
    expect(second.stored).toBe(longest);
  });

  it('replaces an 8 KB id with a generated one: neither echoed nor stored in the audit log', async () => {
    const huge = 'x'.repeat(8192);
    const { echoed, stored } = await signUpWithRequestId(huge);
    expect(echoed).not.toBe(huge);
    expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
    expect(stored).toBe(echoed);
  });

  it('replaces ids of 129 characters or with characters outside [A-Za-z0-9._:-]', async () => {
    for (const bad of ['a'.repeat(129), 'has space', '<script>', 'semi;colon', 'a,b', 'ünï']) {
      const { echoed, stored } = await signUpWithRequestId(bad);
      expect(echoed).not.toBe(bad);
      expect(echoed).toMatch(/^[0-9a-f-]{36}$/);
      expect(stored).toBe(echoed);
    }
  });
});

describe('malformed URLs and HTTP, and per-field limits', () => {
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await signUp(app, { name: 'Admin' });
  });
  afterAll(() => app.close());

  const expectShape = (response: { status: number; body: unknown }, status: number, code: string) => {
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ detail: expect.any(String), code });
  };

  it('answers a path that is not valid percent-encoded UTF-8 with {detail, code}', async () => {
    for (const path of ['/api/v1/chats/%E0%A4%A', '/api/v1/chats/%C0%80', '/api/v1/files/%FF%FE/content']) {
      const response = await app.request('GET', path, { token: admin.token });
      expectShape(response, 400, 'invalid_input');
      expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it('answers an over-long path parameter with 414 {detail, code}', async () => {
    expectShape(await app.request('GET', `/api/v1/users/${'x'.repeat(5000)}`, { token: admin.token }), 414, 'invalid_input');
  });

  it('answers headers over the HTTP parser limit with 431 {detail, code}', async () => {
    expectShape(await app.request('GET', '/api/config', { headers: { 'x-padding': 'p'.repeat(20_000) } }), 431, 'invalid_input');
  });

  it('bounds the open-ended JSON fields a chat stores: params over 100,000 characters are refused', async () => {
    const params = { system: 's'.repeat(100_000) };
    const response = await app.request<ErrorBody>('POST', '/api/v1/chats/new', { token: admin.token, body: { chat: { params } } });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('validation_failed');
    expect(response.body.detail).toMatch(/chat\.params/);
    const fits = await app.request('POST', '/api/v1/chats/new', { token: admin.token, body: { chat: { params: { system: 's'.repeat(99_000) } } } });
    expect(fits.status).toBe(200);
  });

  it('bounds time parameters to 64 characters', async () => {
    const response = await app.request<ErrorBody>('GET', `/api/v1/analytics/summary?from=${'1'.repeat(65)}`, { token: admin.token });
    expect(response.status).toBe(400);
    expect(response.body.detail).toMatch(/from.*64/);
  });
});
