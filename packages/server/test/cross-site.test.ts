import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, type TestUser } from './support/factories.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import type { ErrorBody, NewApiKey, User } from './support/wire.js';

const foreign = 'https://attacker.example';

describe('cross-site requests with the session cookie', () => {
  let app: TestApp;
  let admin: TestUser;
  let cookie: string;
  let host: string;

  /** Sends a request the way a browser would, with only the session cookie; `headers` adds Origin, Sec-Fetch-Site, … */
  function withCookie<T = unknown>(method: string, path: string, headers: Record<string, string> = {}, body?: string) {
    return app.request<T>(method, path, { headers: { cookie, ...headers }, body });
  }

  /** Hashes of the admin's stored API keys: what a rotation would change. */
  async function storedKeys(): Promise<string[]> {
    const rows = await app.parley.platform.db.kysely.selectFrom('api_keys').select('key_hash').where('user_id', '=', admin.id).execute();
    return rows.map((row) => row.key_hash).sort();
  }

  beforeAll(async () => {
    app = await startTestApp({ WEBUI_URL: 'https://chat.example.com' });
    admin = await signUp(app);
    cookie = `token=${admin.token}`;
    host = new URL(app.url).host;
    expect((await app.request<NewApiKey>('POST', '/api/v1/auths/api_key', { token: admin.token })).status).toBe(200);
  });
  afterAll(() => app.close());

  it('refuses a text/plain POST from a foreign origin and leaves the API key alone', async () => {
    const before = await storedKeys();
    expect(before).toHaveLength(1);
    const response = await withCookie<ErrorBody>('POST', '/api/v1/auths/api_key', { origin: foreign, 'content-type': 'text/plain' }, 'x');
    expect(response.status).toBe(403);
    expect(response.body.code).toBe('cross_site');
    expect(response.body.detail).toMatch(/cross-site/i);
    expect(await storedKeys()).toEqual(before);
  });

  it('refuses foreign origins whatever the content type, and cross-site fetch metadata', async () => {
    const before = await storedKeys();
    const attempts: Record<string, string>[] = [
      { origin: foreign, 'content-type': 'application/json', 'x-requested-with': 'XMLHttpRequest' },
      { origin: 'null', 'content-type': 'application/json' },
      { origin: `https://evil.${host}`, 'content-type': 'application/json' },
      { 'sec-fetch-site': 'cross-site', 'content-type': 'application/json' },
      { 'sec-fetch-site': 'same-site', 'content-type': 'application/json' },
      // A browser always says where a change comes from; a request saying nothing is refused too.
      { 'content-type': 'application/json' },
    ];
    for (const headers of attempts) {
      const response = await withCookie<ErrorBody>('POST', '/api/v1/auths/api_key', headers, '{}');
      expect(response.status, JSON.stringify(headers)).toBe(403);
      expect(response.body.code).toBe('cross_site');
    }
    expect((await withCookie<ErrorBody>('DELETE', '/api/v1/auths/api_key', { origin: foreign })).status).toBe(403);
    expect(await storedKeys()).toEqual(before);
  });

  it('refuses a same-origin change that is neither JSON nor marked as scripted (a form post)', async () => {
    const before = await storedKeys();
    for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const response = await withCookie<ErrorBody>('POST', '/api/v1/auths/api_key', { origin: `http://${host}`, 'content-type': contentType }, 'a=b');
      expect(response.status, contentType).toBe(403);
      expect(response.body.code).toBe('cross_site');
    }
    // Body-less, without a content type or the custom header.
    expect((await withCookie('POST', '/api/v1/auths/api_key', { 'sec-fetch-site': 'same-origin' })).status).toBe(403);
    expect(await storedKeys()).toEqual(before);
  });

  it('accepts what the web app sends: same-origin JSON, or body-less with X-Requested-With', async () => {
    const json = await withCookie<NewApiKey>('POST', '/api/v1/auths/api_key', { origin: `http://${host}`, 'content-type': 'application/json' });
    expect(json.status).toBe(200);
    expect(json.body.api_key).toMatch(/^sk-/);
    const bodyless = await withCookie('POST', '/api/v1/auths/api_key', { 'sec-fetch-site': 'same-origin', 'x-requested-with': 'XMLHttpRequest' });
    expect(bodyless.status).toBe(200);
    const viaPublicUrl = await withCookie('POST', '/api/v1/auths/api_key', { origin: 'https://chat.example.com', 'content-type': 'application/json; charset=utf-8' });
    expect(viaPublicUrl.status).toBe(200);
    const deleted = await withCookie('DELETE', '/api/v1/auths/api_key', { origin: `http://${host}`, 'x-requested-with': 'fetch' });
    expect(deleted.status).toBe(200);
  });

  it('leaves bearer-token and API-key clients alone, whatever they send', async () => {
    const bearer = await app.request<NewApiKey>('POST', '/api/v1/auths/api_key', {
      token: admin.token,
      headers: { origin: foreign, 'content-type': 'text/plain', cookie },
      body: 'x',
    });
    expect(bearer.status).toBe(200);
    const me = await app.request<User>('GET', '/api/v1/auths/', { token: bearer.body.api_key });
    expect(me.status).toBe(200);
    const created = await app.request('POST', '/api/v1/chats/new', { token: bearer.body.api_key, headers: { origin: foreign }, body: { chat: { title: 'by key' } } });
    expect(created.status).toBe(200);
  });

  it('reads need no Origin, and public routes (sign-in) are not cookie-authenticated', async () => {
    expect((await withCookie('GET', '/api/v1/auths/', { origin: foreign })).status).toBe(200);
    const signin = await withCookie('POST', '/api/v1/auths/signin', { 'content-type': 'application/json' }, JSON.stringify({ email: admin.email, password: admin.password }));
    expect(signin.status).toBe(200);
  });
});

describe('signing out', () => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp();
    await signUp(app);
  });
  afterAll(() => app.close());

  it('GET answers without signing out: the session stays valid and no cookie is cleared', async () => {
    const user = await signUp(app);
    const response = await app.request<{ status: boolean; detail: string }>('GET', '/api/v1/auths/signout', { headers: { cookie: `token=${user.token}` } });
    expect(response.status).toBe(200);
    expect(response.body.status).toBe(false);
    expect(response.body.detail).toMatch(/POST/);
    expect(response.headers.get('set-cookie')).toBeNull();
    expect((await app.request('GET', '/api/v1/auths/', { token: user.token })).status).toBe(200);
    expect((await app.request('GET', '/api/v1/auths/signout', { token: user.token })).status).toBe(200);
    expect((await app.request('GET', '/api/v1/auths/', { token: user.token })).status).toBe(200);
  });

  it('POST signs out, with the cookie from the page or with a bearer token', async () => {
    const viaCookie = await signUp(app);
    const response = await app.request('POST', '/api/v1/auths/signout', {
      headers: { cookie: `token=${viaCookie.token}`, 'sec-fetch-site': 'same-origin', 'x-requested-with': 'XMLHttpRequest' },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('set-cookie')).toMatch(/token=;/);
    expect((await app.request('GET', '/api/v1/auths/', { token: viaCookie.token })).status).toBe(401);

    const viaBearer = await signUp(app);
    expect((await app.request('POST', '/api/v1/auths/signout', { token: viaBearer.token })).status).toBe(200);
    expect((await app.request('GET', '/api/v1/auths/', { token: viaBearer.token })).status).toBe(401);
  });

  it('a cross-site POST cannot sign anyone out', async () => {
    const user = await signUp(app);
    const response = await app.request<ErrorBody>('POST', '/api/v1/auths/signout', { headers: { cookie: `token=${user.token}`, origin: foreign } });
    expect(response.status).toBe(403);
    expect((await app.request('GET', '/api/v1/auths/', { token: user.token })).status).toBe(200);
  });
});
