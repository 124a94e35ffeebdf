import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, type TestUser } from './support/factories.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import type { AdminConfig, ApiKeyHint, ErrorBody, NewApiKey, PublicConfig, Session, User } from './support/wire.js';

describe('auth', () => {
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    app = await startTestApp({ LOGIN_RATE_LIMIT: '3' });
    admin = await signUp(app, { email: 'Admin@Example.com', name: 'Admin' });
  });
  afterAll(() => app.close());

  it('reports onboarding on /api/config until the first account exists', async () => {
    const fresh = await startTestApp();
    try {
      expect((await fresh.request('GET', '/api/config')).body).toMatchObject({ name: 'Parley', onboarding: true, features: { enable_signup: true } });
      await signUp(fresh);
      expect((await fresh.request<PublicConfig>('GET', '/api/config')).body.onboarding).toBe(false);
    } finally {
      await fresh.close();
    }
  });

  it('makes the first user admin and later users pending by default', async () => {
    expect(admin.role).toBe('admin');
    const second = await signUp(app);
    expect(second.role).toBe('pending');
  });

  it('answers sign-up and sign-in in Open WebUI shape and sets a cookie', async () => {
    const response = await app.request<Session>('POST', '/api/v1/auths/signin', {
      body: { email: 'admin@example.com', password: admin.password },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: admin.id, email: 'admin@example.com', name: 'Admin', role: 'admin', token_type: 'Bearer' });
    expect(typeof response.body.token).toBe('string');
    expect(response.headers.get('set-cookie')).toMatch(/token=.*HttpOnly/i);
  });

  it('returns the current user for a token, and refuses a missing or forged one', async () => {
    const me = await app.request<User>('GET', '/api/v1/auths/', { token: admin.token });
    expect(me.status).toBe(200);
    expect(me.body.email).toBe('admin@example.com');
    expect(me.body).not.toHaveProperty('password_hash');
    expect((await app.request('GET', '/api/v1/auths/')).status).toBe(401);
    const forged = await app.request<ErrorBody>('GET', '/api/v1/auths/', { token: `${admin.token.slice(0, -4)}AAAA` });
    expect(forged.status).toBe(401);
    expect(forged.body.detail).toBeTruthy();
  });

  it('refuses a signed-out token from then on', async () => {
    const user = await signUp(app);
    expect((await app.request('POST', '/api/v1/auths/signout', { token: user.token })).status).toBe(200);
    expect((await app.request('GET', '/api/v1/auths/', { token: user.token })).status).toBe(401);
  });

  it('rejects duplicate emails case-insensitively without changing the first account', async () => {
    const response = await app.request('POST', '/api/v1/auths/signup', {
      body: { email: 'ADMIN@example.com', password: 'another password', name: 'Impostor' },
    });
    expect(response.status).toBe(409);
    const me = await app.request<User>('GET', '/api/v1/auths/', { token: admin.token });
    expect(me.body.name).toBe('Admin');
  });

  it.each([
    ['malformed JSON', '{"email":', 400],
    ['missing fields', { email: 'x@example.com' }, 400],
    ['wrong types', { email: 5, password: true, name: [] }, 400],
    ['a bad email', { email: 'not-an-email', password: 'long enough pw', name: 'N' }, 400],
    ['a short password', { email: 'short@example.com', password: 'short', name: 'N' }, 400],
  ])('rejects sign-up with %s as a 4xx JSON error', async (_name, body, status) => {
    const response = await app.request<ErrorBody>('POST', '/api/v1/auths/signup', { body, headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(status);
    expect(typeof response.body.detail).toBe('string');
  });

  it('rate limits failed sign-ins per account from one address', async () => {
    const victim = await signUp(app);
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await app.request('POST', '/api/v1/auths/signin', { body: { email: victim.email, password: 'wrong password' } });
      expect(response.status).toBe(401);
    }
    const locked = await app.request('POST', '/api/v1/auths/signin', { body: { email: victim.email, password: victim.password } });
    expect(locked.status).toBe(429);
    expect(locked.headers.get('retry-after')).toBeTruthy();
  });

  it('changes the password: the old one stops working, other sessions end, the current stays', async () => {
    const user = await signUp(app);
    const other = await app.request<Session>('POST', '/api/v1/auths/signin', { body: { email: user.email, password: user.password } });
    const wrong = await app.request('POST', '/api/v1/auths/update/password', {
      token: user.token,
      body: { password: 'not the password', new_password: 'a brand new password' },
    });
    expect(wrong.status).toBe(400);
    const changed = await app.request('POST', '/api/v1/auths/update/password', {
      token: user.token,
      body: { password: user.password, new_password: 'a brand new password' },
    });
    expect(changed.status).toBe(200);
    expect((await app.request('GET', '/api/v1/auths/', { token: user.token })).status).toBe(200);
    expect((await app.request('GET', '/api/v1/auths/', { token: other.body.token })).status).toBe(401);
    const oldPassword = await app.request('POST', '/api/v1/auths/signin', { body: { email: user.email, password: user.password } });
    expect(oldPassword.status).toBe(401);
  });

  it('creates, masks, accepts and revokes API keys, stored only hashed', async () => {
    const created = await app.request<NewApiKey>('POST', '/api/v1/auths/api_key', { token: admin.token });
    expect(created.status).toBe(200);
    const key = created.body.api_key;
    expect(key).toMatch(/^sk-[0-9a-f]{48}$/);
    const shown = await app.request<ApiKeyHint>('GET', '/api/v1/auths/api_key', { token: admin.token });
    expect(shown.body.api_key).not.toBe(key);
    expect(shown.body.api_key.startsWith('sk-')).toBe(true);
    const rows = await app.parley.platform.db.kysely.selectFrom('api_keys').selectAll().execute();
    expect(rows.some((row) => JSON.stringify(row).includes(key))).toBe(false);
    expect((await app.request<User>('GET', '/api/v1/auths/', { token: key })).body.id).toBe(admin.id);
    expect((await app.request('DELETE', '/api/v1/auths/api_key', { token: admin.token })).status).toBe(200);
    expect((await app.request('GET', '/api/v1/auths/', { token: key })).status).toBe(401);
  });

  it('stores passwords as argon2id hashes', async () => {
    const row = await app.parley.platform.db.kysely.selectFrom('users').select('password_hash').where('id', '=', admin.id).executeTakeFirstOrThrow();
    expect(row.password_hash.startsWith('$argon2id$')).toBe(true);
  });

  it('lets admins turn sign-up off; non-admins cannot', async () => {
    const user = await signUp(app);
    expect((await app.request('POST', '/api/v1/auths/admin/config', { token: user.token, body: { ENABLE_SIGNUP: false } })).status).toBe(403);
    const off = await app.request<AdminConfig>('POST', '/api/v1/auths/admin/config', { token: admin.token, body: { ENABLE_SIGNUP: false } });
    expect(off.status).toBe(200);
    expect(off.body.ENABLE_SIGNUP).toBe(false);
    const refused = await app.request('POST', '/api/v1/auths/signup', { body: { email: 'late@example.com', password: 'long enough pw', name: 'Late' } });
    expect(refused.status).toBe(403);
    await app.request('POST', '/api/v1/auths/admin/config', { token: admin.token, body: { ENABLE_SIGNUP: true } });
    expect((await app.request('POST', '/api/v1/auths/admin/config', { token: admin.token, body: { ENABLE_SIGNUP: 'yes' } })).status).toBe(400);
  });

  it('rate limits failed sign-ins per client address, across accounts', async () => {
    const strict = await startTestApp({ LOGIN_RATE_LIMIT: '100', LOGIN_RATE_LIMIT_PER_IP: '3' });
    try {
      const owner = await signUp(strict);
      for (let attempt = 0; attempt < 3; attempt++) {
        const response = await strict.request('POST', '/api/v1/auths/signin', { body: { email: `nobody${attempt}@example.com`, password: 'guess' } });
        expect(response.status).toBe(401);
      }
      const locked = await strict.request<ErrorBody>('POST', '/api/v1/auths/signin', { body: { email: owner.email, password: owner.password } });
      expect(locked.status).toBe(429);
      expect(locked.body.code).toBe('rate_limited');
    } finally {
      await strict.close();
    }
  });
});
