import { createHash, randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as apiKeysMigration from '../src/platform/db/migrations/0005_api_keys.js';
import { eventually } from './support/streams.js';
import { adminAndUser, signUp, type TestUser } from './support/factories.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import type { ApiKey, ApiKeyHint, CreatedApiKey, ErrorBody, NewApiKey, Session, User } from './support/wire.js';

describe('API keys', () => {
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;

  beforeAll(async () => {
    app = await startTestApp();
    ({ admin, user } = await adminAndUser(app));
  });
  afterAll(() => app.close());

  const me = (token: string) => app.request<User>('GET', '/api/v1/auths/', { token });
  const createNamed = (token: string, body: Record<string, unknown>) => app.request<CreatedApiKey>('POST', '/api/v1/auths/api_keys', { token, body });
  const list = async (token: string) => {
    const response = await app.request<ApiKey[]>('GET', '/api/v1/auths/api_keys', { token });
    expect(response.status).toBe(200);
    return response.body;
  };
  /** A fresh approved user with a default key and a named key. */
  async function userWithKeys(): Promise<{ owner: TestUser; keys: string[] }> {
    const owner = await signUp(app);
    await app.request('POST', '/api/v1/users/update/role', { token: admin.token, body: { id: owner.id, role: 'user' } });
    const defaultKey = (await app.request<NewApiKey>('POST', '/api/v1/auths/api_key', { token: owner.token })).body.api_key;
    const named = (await createNamed(owner.token, { name: 'CI' })).body.api_key;
    for (const key of [defaultKey, named]) expect((await me(key)).status).toBe(200);
    return { owner, keys: [defaultKey, named] };
  }

  it('revokes every API key when the owner changes the password', async () => {
    const { owner, keys } = await userWithKeys();
    const changed = await app.request('POST', '/api/v1/auths/update/password', {
      token: owner.token,
      body: { password: owner.password, new_password: 'a different password' },
    });
    expect(changed.status).toBe(200);
    for (const key of keys) expect((await me(key)).status).toBe(401);
    expect(await list(owner.token)).toEqual([]);
    expect((await me(owner.token)).status).toBe(200);
  });

  it('revokes every API key when an admin resets the password', async () => {
    const { owner, keys } = await userWithKeys();
    const reset = await app.request('POST', `/api/v1/users/${owner.id}/update`, { token: admin.token, body: { password: 'reset by the admin' } });
    expect(reset.status).toBe(200);
    for (const key of keys) expect((await me(key)).status).toBe(401);
    expect((await me(owner.token)).status).toBe(401);
  });

  it('answers sign-out with an API key with a 400 that says what to do, and leaves the key working', async () => {
    const key = (await createNamed(user.token, { name: 'script' })).body.api_key;
    const response = await app.request<ErrorBody>('POST', '/api/v1/auths/signout', { token: key });
    expect(response.status).toBe(400);
    expect(response.body.code).toBe('bad_request');
    expect(response.body.detail).toMatch(/API key.*revoke/i);
    expect((await me(key)).status).toBe(200);
  });

  it('keeps several named keys, each working alone, listed without the key itself', async () => {
    const owner = await signUp(app);
    await app.request('POST', '/api/v1/users/update/role', { token: admin.token, body: { id: owner.id, role: 'user' } });
    const expiresAt = Math.floor(Date.now() / 1000) + 86_400;
    const ci = await createNamed(owner.token, { name: '  CI  ' });
    const laptop = await createNamed(owner.token, { name: 'Laptop', expires_at: expiresAt });
    expect(ci.status).toBe(200);
    expect(ci.body).toMatchObject({ name: 'CI', is_default: false, last_used_at: null, expires_at: null });
    expect(ci.body.api_key).toMatch(/^sk-[0-9a-f]{48}$/);
    expect(laptop.body.expires_at).toBe(expiresAt);
    const defaultKey = (await app.request<NewApiKey>('POST', '/api/v1/auths/api_key', { token: owner.token })).body.api_key;

    const keys = await list(owner.token);
    expect(keys.map((key) => [key.name, key.is_default])).toEqual([
      ['CI', false],
      ['Laptop', false],
      ['Default', true],
    ]);
    expect(JSON.stringify(keys)).not.toContain(ci.body.api_key);
    expect(keys[0]!.key_hint).toBe(ci.body.key_hint);
    expect(keys[0]!.key_hint).toMatch(/^sk-.+….{4}$/);
    expect(keys[0]!.created_at).toBeGreaterThan(Date.now() / 1000 - 60);

    // Open WebUI's single-key endpoints manage the default key and leave the named ones alone.
    const hint = await app.request<ApiKeyHint>('GET', '/api/v1/auths/api_key', { token: owner.token });
    expect(hint.body.api_key).toBe(keys[2]!.key_hint);
    const replaced = (await app.request<NewApiKey>('POST', '/api/v1/auths/api_key', { token: owner.token })).body.api_key;
    expect((await me(defaultKey)).status).toBe(401);
    expect((await me(replaced)).status).toBe(200);
    expect((await app.request('DELETE', '/api/v1/auths/api_key', { token: owner.token })).status).toBe(200);
    expect((await me(replaced)).status).toBe(401);
    for (const key of [ci, laptop]) expect((await me(key.body.api_key)).body.id).toBe(owner.id);

    // One named key goes; the other stays.
    expect((await app.request('DELETE', `/api/v1/auths/api_keys/${ci.body.id}`, { token: owner.token })).status).toBe(200);
    expect((await me(ci.body.api_key)).status).toBe(401);
    expect((await me(laptop.body.api_key)).status).toBe(200);
    expect((await list(owner.token)).map((key) => key.name)).toEqual(['Laptop']);
  });

  it('refuses to delete or list another user’s keys', async () => {
    const mine = await createNamed(user.token, { name: 'mine' });
    const response = await app.request<ErrorBody>('DELETE', `/api/v1/auths/api_keys/${mine.body.id}`, { token: admin.token });
    expect(response.status).toBe(404);
    expect((await me(mine.body.api_key)).status).toBe(200);
    expect((await list(admin.token)).some((key) => key.id === mine.body.id)).toBe(false);
  });

  it('records the last use, at most once a minute', async () => {
    const created = await createNamed(user.token, { name: 'used' });
    expect((await me(created.body.api_key)).status).toBe(200);
    const usedAt = await eventually(async () => (await list(user.token)).find((key) => key.id === created.body.id)?.last_used_at ?? undefined);
    expect(usedAt).toBeGreaterThan(Date.now() / 1000 - 60);
    const stored = () =>
      app.parley.platform.db.kysely.selectFrom('api_keys').select('last_used_at').where('id', '=', created.body.id).executeTakeFirstOrThrow();
    const before = (await stored()).last_used_at;
    for (let i = 0; i < 5; i++) expect((await me(created.body.api_key)).status).toBe(200);
    // A write, if any, would have been issued by now; the value must not have moved within the minute.
    await me(user.token);
    expect((await stored()).last_used_at).toBe(before);
  });

  it('refuses an expired key and a past expiry', async () => {
    const created = await createNamed(user.token, { name: 'short-lived', expires_at: Math.floor(Date.now() / 1000) + 3600 });
    // Expired in the database before its first use: the lookup refuses it (a cached key's expiry is
    // tested with the credential cache, in database-blip.test.ts).
    await app.parley.platform.db.kysely.updateTable('api_keys').set({ expires_at: Date.now() - 1000 }).where('id', '=', created.body.id).execute();
    expect((await me(created.body.api_key)).status).toBe(401);
    const past = await createNamed(user.token, { name: 'past', expires_at: Math.floor(Date.now() / 1000) - 10 });
    expect(past.status).toBe(400);
  });

  it.each([
    ['no name', {}],
    ['an empty name', { name: '   ' }],
    ['a long name', { name: 'x'.repeat(101) }],
    ['a fractional expiry', { name: 'n', expires_at: 1.5 }],
    ['a text expiry', { name: 'n', expires_at: 'tomorrow' }],
  ])('rejects a key with %s as a 400', async (_case, body) => {
    const response = await createNamed(user.token, body);
    expect(response.status).toBe(400);
    expect(typeof (response.body as unknown as ErrorBody).detail).toBe('string');
  });

  it('does not let an API key create keys', async () => {
    const key = (await createNamed(user.token, { name: 'parent' })).body.api_key;
    expect((await createNamed(key, { name: 'child' })).status).toBe(403);
    expect((await app.request('POST', '/api/v1/auths/api_key', { token: key })).status).toBe(403);
    expect((await app.request('GET', '/api/v1/auths/api_keys', { token: key })).status).toBe(200);
  });

  it('caps the keys of one user', async () => {
    const owner = await signUp(app);
    await app.request('POST', '/api/v1/users/update/role', { token: admin.token, body: { id: owner.id, role: 'user' } });
    for (let i = 0; i < 50; i++) expect((await createNamed(owner.token, { name: `key ${i}` })).status).toBe(200);
    const refused = await createNamed(owner.token, { name: 'one too many' });
    expect(refused.status).toBe(400);
    expect((refused.body as unknown as ErrorBody).detail).toMatch(/50/);
  });

  it('keeps a key made before named keys existed, as the default key (migration 0005)', async () => {
    const fresh = await startTestApp();
    try {
      const owner = await signUp(fresh);
      const db = fresh.parley.platform.db.kysely as unknown as Kysely<unknown>;
      await apiKeysMigration.down(db);
      const key = `sk-${randomBytes(24).toString('hex')}`;
      const hash = createHash('sha256').update(key).digest('hex');
      await sql`insert into api_keys (id, user_id, key_hash, key_hint, created_at, last_used_at) values ('old', ${owner.id}, ${hash}, 'sk-old…hint', ${Date.now()}, null)`.execute(db);
      await apiKeysMigration.up(db);
      expect((await fresh.request<User>('GET', '/api/v1/auths/', { token: key })).body.id).toBe(owner.id);
      const listed = await fresh.request<ApiKey[]>('GET', '/api/v1/auths/api_keys', { token: owner.token });
      expect(listed.body).toMatchObject([{ id: 'old', name: 'Default', is_default: true, expires_at: null }]);
      expect((await fresh.request<ApiKeyHint>('GET', '/api/v1/auths/api_key', { token: owner.token })).body.api_key).toBe('sk-old…hint');
    } finally {
      await fresh.close();
    }
  });

  it('lets a pending user manage no keys', async () => {
    const pending = await signUp(app);
    expect((await createNamed(pending.token, { name: 'x' })).status).toBe(403);
    expect((await app.request('GET', '/api/v1/auths/api_keys', { token: pending.token })).status).toBe(403);
  });
});

describe('password rules', () => {
  const signUpWith = (app: TestApp, password: string) =>
    app.request<Session | ErrorBody>('POST', '/api/v1/auths/signup', { body: { email: `p${Math.random().toString(16).slice(2)}@example.com`, password, name: 'N' } });

  it('needs 10 characters, not all of them spaces, even with validation off', async () => {
    const app = await startTestApp();
    try {
      expect((await signUpWith(app, 'abcdefghi')).status).toBe(400);
      expect((await signUpWith(app, ' '.repeat(12))).status).toBe(400);
      expect((await signUpWith(app, '\u00a0\u2003'.repeat(6))).status).toBe(400);
      expect((await signUpWith(app, 'abcdefghij')).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it("follows Open WebUI's ENABLE_PASSWORD_VALIDATION with its default pattern, on sign-up, change and reset", async () => {
    const app = await startTestApp({ ENABLE_PASSWORD_VALIDATION: 'true' });
    try {
      const weak = await signUpWith(app, 'correct horse battery');
      expect(weak.status).toBe(400);
      expect((weak.body as ErrorBody).detail).toMatch(/lower-case.*upper-case.*digit.*symbol/);
      const admin = await signUp(app, { password: 'Correct-Horse-1' });
      const user = await signUp(app, { password: 'Battery-Staple-2' });
      const change = (password: string) =>
        app.request('POST', '/api/v1/auths/update/password', { token: user.token, body: { password: user.password, new_password: password } });
      expect((await change('no symbols or digits')).status).toBe(400);
      const reset = (password: string) => app.request('POST', `/api/v1/users/${user.id}/update`, { token: admin.token, body: { password } });
      expect((await reset('all lower case 1!')).status).toBe(400);
      expect((await reset('Reset-By-Admin-3')).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('takes a custom pattern and hint, matched from the start as Python does', async () => {
    const app = await startTestApp({ ENABLE_PASSWORD_VALIDATION: 'true', PASSWORD_VALIDATION_REGEX_PATTERN: '\\d{4}', PASSWORD_VALIDATION_HINT: 'Start with four digits.' });
    try {
      const refused = await signUpWith(app, 'abcd1234efgh');
      expect(refused.status).toBe(400);
      expect((refused.body as ErrorBody).detail).toContain('Start with four digits.');
      expect((await signUpWith(app, '1234abcdefgh')).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
