import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newChat, signUp, type TestUser } from './support/factories.js';
import { startWithUsers } from './support/start-with-users.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import type { ErrorBody } from './support/wire.js';

// Every route, whatever its path parameters: the guard runs before anything else.
const concrete = (url: string) => url.replace(/:[A-Za-z_]+/g, '00000000-0000-4000-8000-000000000000');

describe('access control on every route', () => {
  let app: TestApp;
  let user: TestUser;
  let pending: TestUser;

  beforeAll(async () => {
    ({ app, user } = await startWithUsers());
    pending = await signUp(app);
  });
  afterAll(() => app.close());

  it('declares access on every route, and most routes are not public', () => {
    const routes = app.parley.routes;
    expect(routes.length).toBeGreaterThan(20);
    const publicRoutes = routes.filter((route) => route.access === 'public' && route.method !== 'HEAD').map((route) => `${route.method} ${route.url}`);
    expect(publicRoutes.sort()).toEqual(['GET /api/config', 'GET /health', 'GET /metrics', 'GET /ready', 'POST /api/v1/auths/signin', 'POST /api/v1/auths/signup'].sort());
  });

  it('refuses anonymous callers with 401 on every non-public route, before reading the body', async () => {
    for (const route of app.parley.routes.filter((r) => r.access !== 'public' && r.method !== 'HEAD')) {
      const withBody = route.method !== 'GET' ? { body: '{not json', headers: { 'content-type': 'application/json' } } : {};
      const response = await app.request<ErrorBody>(route.method, concrete(route.url), withBody);
      expect(response.status, `${route.method} ${route.url}`).toBe(401);
      expect(typeof response.body.detail).toBe('string');
    }
  });

  it('refuses pending users on routes that need approval, and non-admins on admin routes', async () => {
    for (const route of app.parley.routes.filter((r) => (r.access === 'verified' || r.access === 'admin') && r.method !== 'HEAD')) {
      const response = await app.request(route.method, concrete(route.url), { token: pending.token });
      expect(response.status, `${route.method} ${route.url}`).toBe(403);
    }
    for (const route of app.parley.routes.filter((r) => r.access === 'admin' && r.method !== 'HEAD')) {
      const response = await app.request(route.method, concrete(route.url), { token: user.token });
      expect(response.status, `${route.method} ${route.url}`).toBe(403);
    }
  });
});

describe('request bodies', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(() => app.close());

  it('reads an empty JSON body as no body (as Open WebUI clients send), and still rejects broken JSON', async () => {
    const admin = await signUp(app);
    const chat = await newChat(app, admin, { title: 'T' });
    const pinned = await app.request('POST', `/api/v1/chats/${chat.id}/pin`, { token: admin.token, headers: { 'content-type': 'application/json' } });
    expect(pinned.status).toBe(200);
    const broken = await app.request<ErrorBody>('POST', '/api/v1/auths/signin', { body: '{"email":', headers: { 'content-type': 'application/json' } });
    expect(broken.status).toBe(400);
    expect(broken.body.code).toBe('malformed_json');
    const tooBig = await app.request('POST', '/api/v1/auths/signin', { body: JSON.stringify({ email: 'a'.repeat(11 * 1024 * 1024) }), headers: { 'content-type': 'application/json' } });
    expect(tooBig.status).toBe(413);
  });
});
