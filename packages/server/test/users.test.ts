import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promote, signUp, type TestUser } from './support/factories.js';
import { startWithUsers } from './support/start-with-users.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { jsonOf, type ErrorBody, type NewApiKey, type UploadedFile, type User, type UserList } from './support/wire.js';

/** A user's row as stored, to show what a request did or did not change. */
function userRow(app: TestApp, id: string) {
  return app.parley.platform.db.kysely.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

function signIn(app: TestApp, email: string, password: string) {
  return app.request('POST', '/api/v1/auths/signin', { body: { email, password } });
}

/** Inserts a chat with one message straight into the database, as the chats feature would. */
async function insertChat(app: TestApp, userId: string): Promise<string> {
  const db = app.parley.platform.db.kysely;
  const now = Date.now();
  const chatId = crypto.randomUUID();
  await db
    .insertInto('chats')
    .values({ id: chatId, user_id: userId, title: 'T', current_message_id: null, is_pinned: 0, is_archived: 0, meta: '{}', created_at: now, updated_at: now })
    .execute();
  await db
    .insertInto('messages')
    .values({
      id: crypto.randomUUID(),
      chat_id: chatId,
      parent_id: null,
      role: 'user',
      content: 'hello',
      model: null,
      status: 'done',
      error: null,
      usage: null,
      info: '{}',
      files: '[]',
      created_at: now,
      updated_at: now,
    })
    .execute();
  return chatId;
}

describe('users listing', () => {
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await signUp(app, { name: 'Zed Admin', email: 'zed@example.com' });
    const people = [
      ['alice', 'alice@wonder.example'],
      ['Bob', 'bob@builder.example'],
      ['carol', 'carol@example.com'],
      ['100% Dave', 'dave_x@example.com'],
      ['Erin', 'erin@WONDER.example'],
    ] as const;
    const db = app.parley.platform.db.kysely;
    await db.updateTable('users').set({ created_at: 1_000_000, last_active_at: 1_000_000 }).where('id', '=', admin.id).execute();
    for (const [index, [name, email]] of people.entries()) {
      const user = await signUp(app, { name, email });
      // Distinct, known times so the order by time is certain.
      const at = 2_000_000 + index * 1000;
      await db.updateTable('users').set({ created_at: at, last_active_at: 10_000_000 - at }).where('id', '=', user.id).execute();
    }
  });
  afterAll(() => app.close());

  const list = <Body = UserList>(query: string) => app.request<Body>('GET', `/api/v1/users/${query}`, { token: admin.token });
  const names = (body: UserList) => body.users.map((u) => u.name);

  it('lists newest first by default, with the total and Open WebUI user fields', async () => {
    const response = await list('');
    expect(response.status).toBe(200);
    expect(response.body.total).toBe(6);
    expect(names(response.body)).toEqual(['Erin', '100% Dave', 'carol', 'Bob', 'alice', 'Zed Admin']);
    expect(Object.keys(response.body.users[0]!).sort()).toEqual(
      ['created_at', 'email', 'id', 'last_active_at', 'name', 'profile_image_url', 'role', 'updated_at'].sort(),
    );
    expect(response.body.users[5]!.created_at).toBe(1000);
  });

  it('pages with page and limit, keeping the total', async () => {
    const first = await list('?page=1&limit=2&order_by=created_at&direction=asc');
    const second = await list('?page=2&limit=2&order_by=created_at&direction=asc');
    const beyond = await list('?page=9&limit=2');
    expect(names(first.body)).toEqual(['Zed Admin', 'alice']);
    expect(names(second.body)).toEqual(['Bob', 'carol']);
    expect(beyond.body).toEqual({ users: [], total: 6 });
    expect(first.body.total).toBe(6);
  });

  it('orders by name (case-insensitively), email and last activity, both ways', async () => {
    expect(names((await list('?order_by=name&direction=asc')).body)).toEqual(['100% Dave', 'alice', 'Bob', 'carol', 'Erin', 'Zed Admin']);
    expect(names((await list('?order_by=email&direction=desc')).body)).toEqual(['Zed Admin', 'Erin', '100% Dave', 'carol', 'Bob', 'alice']);
    expect(names((await list('?order_by=last_active_at&direction=asc')).body)).toEqual(['Zed Admin', 'Erin', '100% Dave', 'carol', 'Bob', 'alice']);
  });

  it('searches name or email case-insensitively, treating % and _ literally', async () => {
    const wonder = await list('?query=WONDER&order_by=name&direction=asc');
    expect(names(wonder.body)).toEqual(['alice', 'Erin']);
    expect(wonder.body.total).toBe(2);
    expect(names((await list('?query=bOB')).body)).toEqual(['Bob']);
    expect(names((await list(`?query=${encodeURIComponent('100%')}`)).body)).toEqual(['100% Dave']);
    expect((await list(`?query=${encodeURIComponent('%')}`)).body.total).toBe(1);
    expect(names((await list('?query=_')).body)).toEqual(['100% Dave']);
    expect(await list('?query=nobody-like-this').then((r) => r.body)).toEqual({ users: [], total: 0 });
  });

  it.each(['?page=0', '?limit=0', '?limit=100000', '?order_by=password_hash', '?direction=sideways', '?page=abc'])(
    'rejects the bad query %s with 400',
    async (query) => {
      const response = await list<ErrorBody>(query);
      expect(response.status).toBe(400);
      expect(typeof response.body.detail).toBe('string');
    },
  );
});

describe('users administration', () => {
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;

  beforeAll(async () => {
    ({ app, admin, user } = await startWithUsers());
  });
  afterAll(() => app.close());

  it('gets one user, and 404 for an unknown id', async () => {
    const response = await app.request<User>('GET', `/api/v1/users/${user.id}`, { token: admin.token });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: user.id, email: user.email, role: 'user' });
    expect(response.body).not.toHaveProperty('password_hash');
    expect((await app.request('GET', '/api/v1/users/no-such-user', { token: admin.token })).status).toBe(404);
  });

  it('approves a pending user: refused on a verified route before, allowed on their next request', async () => {
    const pending = await signUp(app);
    expect(pending.role).toBe('pending');
    const before = await app.request('POST', '/api/v1/auths/api_key', { token: pending.token });
    expect(before.status).toBe(403);
    const approved = await app.request('POST', '/api/v1/users/update/role', { token: admin.token, body: { id: pending.id, role: 'user' } });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ id: pending.id, role: 'user' });
    expect((await app.request('POST', '/api/v1/auths/api_key', { token: pending.token })).status).toBe(200);

    await promote(app, admin, pending, 'pending');
    expect((await app.request('POST', '/api/v1/auths/api_key', { token: pending.token })).status).toBe(403);
  });

  it('makes a promoted admin able to administer, and a demoted one not', async () => {
    const helper = await signUp(app);
    expect((await app.request('GET', '/api/v1/users/', { token: helper.token })).status).toBe(403);
    await promote(app, admin, helper, 'admin');
    expect((await app.request('GET', '/api/v1/users/', { token: helper.token })).status).toBe(200);
    await promote(app, admin, helper, 'user');
    expect((await app.request('GET', '/api/v1/users/', { token: helper.token })).status).toBe(403);
  });

  it('updates name and email, and resets the password: the new one signs in, old sessions end', async () => {
    const target = await signUp(app);
    const response = await app.request('POST', `/api/v1/users/${target.id}/update`, {
      token: admin.token,
      body: { name: 'Renamed', email: 'Renamed@Example.com', password: 'a fresh password', profile_image_url: '' },
    });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ id: target.id, name: 'Renamed', email: 'renamed@example.com', role: 'pending' });
    expect((await signIn(app, 'renamed@example.com', 'a fresh password')).status).toBe(200);
    expect((await signIn(app, 'renamed@example.com', target.password)).status).toBe(401);
    expect((await app.request('GET', '/api/v1/auths/', { token: target.token })).status).toBe(401);
  });

  it('treats an empty password (as Open WebUI\'s form sends) as unchanged', async () => {
    const target = await signUp(app);
    const response = await app.request('POST', `/api/v1/users/${target.id}/update`, { token: admin.token, body: { name: 'Kept', password: '' } });
    expect(response.status).toBe(200);
    expect((await signIn(app, target.email, target.password)).status).toBe(200);
    expect((await app.request('GET', '/api/v1/auths/', { token: target.token })).status).toBe(200);
  });

  it('refuses an email that another account has (409), changing nothing', async () => {
    const target = await signUp(app, { name: 'Unchanged' });
    const before = await userRow(app, target.id);
    const response = await app.request('POST', `/api/v1/users/${target.id}/update`, {
      token: admin.token,
      body: { name: 'Changed', email: user.email.toUpperCase(), password: 'another password' },
    });
    expect(response.status).toBe(409);
    expect(await userRow(app, target.id)).toEqual(before);
    expect((await signIn(app, target.email, target.password)).status).toBe(200);
  });

  it.each([
    ['a bad role', '/api/v1/users/update/role', (id: string) => ({ id, role: 'superuser' })],
    ['a missing role', '/api/v1/users/update/role', (id: string) => ({ id })],
    ['a short password', 'update', () => ({ password: 'short' })],
    ['a bad email', 'update', () => ({ email: 'not-an-email' })],
    ['an empty name', 'update', () => ({ name: '   ' })],
    ['a wrong type', 'update', () => ({ name: 42 })],
    ['malformed JSON', 'update', () => '{"name":'],
    ['malformed JSON', '/api/v1/users/update/role', () => '{"id":'],
  ])('rejects %s with 400, changing nothing', async (_name, route, body) => {
    const target = await signUp(app);
    const before = await userRow(app, target.id);
    const url = route === 'update' ? `/api/v1/users/${target.id}/update` : route;
    const response = await app.request<ErrorBody>('POST', url, { token: admin.token, body: body(target.id), headers: { 'content-type': 'application/json' } });
    expect(response.status).toBe(400);
    expect(typeof response.body.detail).toBe('string');
    expect(await userRow(app, target.id)).toEqual(before);
  });

  it('answers 404 for unknown ids on role change, update and delete', async () => {
    const unknown = crypto.randomUUID();
    expect((await app.request('POST', '/api/v1/users/update/role', { token: admin.token, body: { id: unknown, role: 'user' } })).status).toBe(404);
    expect((await app.request('POST', `/api/v1/users/${unknown}/update`, { token: admin.token, body: { name: 'X' } })).status).toBe(404);
    expect((await app.request('DELETE', `/api/v1/users/${unknown}`, { token: admin.token })).status).toBe(404);
  });

  it('refuses every users route to a non-admin with 403, changing nothing', async () => {
    const victim = await signUp(app);
    const before = await userRow(app, victim.id);
    const attempts: [string, string, unknown?][] = [
      ['GET', '/api/v1/users/'],
      ['GET', `/api/v1/users/${victim.id}`],
      ['POST', '/api/v1/users/update/role', { id: user.id, role: 'admin' }],
      ['POST', `/api/v1/users/${victim.id}/update`, { name: 'Hacked' }],
      ['DELETE', `/api/v1/users/${victim.id}`],
    ];
    for (const [method, url, body] of attempts) {
      const response = await app.request(method, url, { token: user.token, body });
      expect(response.status, `${method} ${url}`).toBe(403);
    }
    expect(await userRow(app, victim.id)).toEqual(before);
    expect((await userRow(app, user.id))?.role).toBe('user');
    expect((await app.request('GET', '/api/v1/users/')).status).toBe(401);
  });

  it('deletes a user with their sessions, API key, chats, messages and files', async () => {
    const doomed = await signUp(app);
    await promote(app, admin, doomed, 'user');
    const apiKey = (await app.request<NewApiKey>('POST', '/api/v1/auths/api_key', { token: doomed.token })).body.api_key;
    const chatId = await insertChat(app, doomed.id);
    const keptChat = await insertChat(app, user.id);
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(4096).fill(7)]), 'doomed.bin');
    const uploaded = await fetch(`${app.url}/api/v1/files/`, { method: 'POST', body: form, headers: { authorization: `Bearer ${doomed.token}` } });
    const fileId = (await jsonOf<UploadedFile>(uploaded)).id;
    const object = path.resolve(app.parley.platform.config.DATA_DIR, 'uploads', doomed.id, fileId);
    expect(fs.existsSync(object)).toBe(true);

    const response = await app.request('DELETE', `/api/v1/users/${doomed.id}`, { token: admin.token });
    expect(response.status).toBe(200);
    expect(response.body).toBe(true);

    const db = app.parley.platform.db.kysely;
    expect(await userRow(app, doomed.id)).toBeUndefined();
    expect(await db.selectFrom('sessions').select('id').where('user_id', '=', doomed.id).execute()).toEqual([]);
    expect(await db.selectFrom('api_keys').select('id').where('user_id', '=', doomed.id).execute()).toEqual([]);
    expect(await db.selectFrom('chats').select('id').where('user_id', '=', doomed.id).execute()).toEqual([]);
    expect(await db.selectFrom('messages').select('id').where('chat_id', '=', chatId).execute()).toEqual([]);
    expect(await db.selectFrom('files').select('id').where('user_id', '=', doomed.id).execute()).toEqual([]);
    expect(fs.existsSync(object)).toBe(false);
    expect((await app.request('GET', '/api/v1/auths/', { token: doomed.token })).status).toBe(401);
    expect((await app.request('GET', '/api/v1/auths/', { token: apiKey })).status).toBe(401);
    expect((await signIn(app, doomed.email, doomed.password)).status).toBe(401);
    // Nobody else's data went with them.
    expect(await db.selectFrom('messages').select('id').where('chat_id', '=', keptChat).execute()).toHaveLength(1);
    expect((await app.request('GET', '/api/v1/auths/', { token: user.token })).status).toBe(200);
    expect((await app.request('DELETE', `/api/v1/users/${doomed.id}`, { token: admin.token })).status).toBe(404);
  });
});

describe('admin safety rules', () => {
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;

  beforeAll(async () => {
    ({ app, admin, user } = await startWithUsers());
  });
  afterAll(() => app.close());

  it('refuses an admin demoting themselves, by either route, with a clear 400', async () => {
    for (const role of ['user', 'pending'] as const) {
      const viaRole = await app.request<ErrorBody>('POST', '/api/v1/users/update/role', { token: admin.token, body: { id: admin.id, role } });
      expect(viaRole.status).toBe(400);
      expect(viaRole.body.detail).toMatch(/own admin role/);
      const viaUpdate = await app.request('POST', `/api/v1/users/${admin.id}/update`, { token: admin.token, body: { role, name: 'Changed' } });
      expect(viaUpdate.status).toBe(400);
    }
    const row = await userRow(app, admin.id);
    expect(row?.role).toBe('admin');
    expect(row?.name).toBe('Admin');
    // Keeping their own role while editing themselves is fine.
    const kept = await app.request('POST', `/api/v1/users/${admin.id}/update`, { token: admin.token, body: { role: 'admin', name: 'Still Admin' } });
    expect(kept.status).toBe(200);
    expect(kept.body).toMatchObject({ role: 'admin', name: 'Still Admin' });
  });

  it('refuses an admin deleting themselves', async () => {
    const response = await app.request<ErrorBody>('DELETE', `/api/v1/users/${admin.id}`, { token: admin.token });
    expect(response.status).toBe(400);
    expect(response.body.detail).toMatch(/own account/);
    expect((await userRow(app, admin.id))?.role).toBe('admin');
    expect((await app.request('GET', '/api/v1/auths/', { token: admin.token })).status).toBe(200);
  });

  it('lets an admin demote another admin while more than one remains', async () => {
    const helper = await signUp(app);
    await promote(app, admin, helper, 'admin');
    const response = await app.request('POST', '/api/v1/users/update/role', { token: admin.token, body: { id: helper.id, role: 'user' } });
    expect(response.status).toBe(200);
    expect((await userRow(app, helper.id))?.role).toBe('user');
    expect((await app.request('GET', '/api/v1/users/', { token: helper.token })).status).toBe(403);
    expect((await userRow(app, user.id))?.role).toBe('user');
  });

  it('never lets two admins demote each other down to no admin at all', async () => {
    for (let round = 0; round < 3; round++) {
      const other = await signUp(app);
      await promote(app, admin, other, 'admin');
      const results = await Promise.all([
        app.request('POST', '/api/v1/users/update/role', { token: admin.token, body: { id: other.id, role: 'user' } }),
        app.request('POST', '/api/v1/users/update/role', { token: other.token, body: { id: admin.id, role: 'user' } }),
      ]);
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status !== 200).every((r) => r.status === 400 || r.status === 403)).toBe(true);
      const admins = await app.parley.platform.db.kysely.selectFrom('users').select('id').where('role', '=', 'admin').execute();
      expect(admins).toHaveLength(1);
      // Restore the original admin for the next round, whoever won.
      if (admins[0]!.id !== admin.id) {
        await app.request('POST', '/api/v1/users/update/role', { token: other.token, body: { id: admin.id, role: 'admin' } });
        await app.request('POST', '/api/v1/users/update/role', { token: admin.token, body: { id: other.id, role: 'user' } });
      }
    }
  });

  it('never lets two admins delete each other down to no admin at all', async () => {
    const other = await signUp(app);
    await promote(app, admin, other, 'admin');
    const results = await Promise.all([
      app.request('DELETE', `/api/v1/users/${other.id}`, { token: admin.token }),
      app.request('DELETE', `/api/v1/users/${admin.id}`, { token: other.token }),
    ]);
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    const admins = await app.parley.platform.db.kysely.selectFrom('users').select('id').where('role', '=', 'admin').execute();
    expect(admins).toHaveLength(1);
  });

});
