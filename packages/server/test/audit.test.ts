import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCsv } from './support/csv.js';
import { signUp, type TestUser } from './support/factories.js';
import { startWithUsers } from './support/start-with-users.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import type { AuditPage, Connection, NewApiKey, Session, UserList } from './support/wire.js';

const secrets = {
  adminPassword: 'admin-password-0001',
  userPassword: 'user-password-0002',
  newPassword: 'fresh-password-0003',
  resetPassword: 'reset-by-admin-0004',
  wrongPassword: 'wrong-password-0005',
  connectionKey: 'sk-connection-secret-0006-abcdef',
  connectionKey2: 'sk-connection-secret-0007-ghijkl',
  urlPassword: 'url-password-0008',
};

describe('audit log', () => {
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;
  let apiKey = '';

  /** Events matching `query` (a query string), as the admin API lists them. */
  async function events(query = '', token = admin.token) {
    const response = await app.request<AuditPage>('GET', `/api/v1/audit/?limit=1000&${query}`, { token });
    expect(response.status).toBe(200);
    return response.body;
  }
  const latest = async (action: string) => (await events(`action=${action}`)).events[0]!;

  beforeAll(async () => {
    app = await startTestApp();
    admin = await signUp(app, { name: 'Admin', password: secrets.adminPassword });
    user = await signUp(app, { name: 'Regular, "Quoted"', password: secrets.userPassword });
  });
  afterAll(() => app.close());

  it('records sign-up with the new account as actor and target', async () => {
    const signups = await events('action=auth.signup');
    expect(signups.total).toBe(2);
    const first = signups.events.find((event) => event.actor_id === admin.id)!;
    expect(first).toMatchObject({ actor_email: admin.email, target_type: 'user', target_id: admin.id, ip: '127.0.0.1', details: { role: 'admin' } });
    expect(signups.events.find((event) => event.actor_id === user.id)?.details).toEqual({ name: 'Regular, "Quoted"', role: 'pending' });
    expect(typeof first.at).toBe('number');
    expect(first.at).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it('records sign-in success and failure with address and request id, known account or not', async () => {
    const ok = await app.request('POST', '/api/v1/auths/signin', {
      body: { email: admin.email, password: secrets.adminPassword },
      headers: { 'x-request-id': 'req-signin-ok' },
    });
    expect(ok.status).toBe(200);
    expect(await latest('auth.signin.success')).toMatchObject({
      actor_id: admin.id,
      actor_email: admin.email,
      target_id: admin.id,
      ip: '127.0.0.1',
      request_id: 'req-signin-ok',
    });

    const wrong = await app.request('POST', '/api/v1/auths/signin', { body: { email: user.email, password: secrets.wrongPassword } });
    expect(wrong.status).toBe(401);
    const failure = await latest('auth.signin.failure');
    expect(failure).toMatchObject({ actor_id: user.id, actor_email: user.email, target_id: user.id, details: { reason: 'wrong_password' } });
    expect(failure.request_id).toBe(wrong.headers.get('x-request-id'));

    const unknown = await app.request('POST', '/api/v1/auths/signin', { body: { email: 'Nobody@Example.com', password: secrets.wrongPassword } });
    expect(unknown.status).toBe(401);
    expect(await latest('auth.signin.failure')).toMatchObject({
      actor_id: null,
      actor_email: 'nobody@example.com',
      target_type: null,
      target_id: null,
      details: { reason: 'unknown_account' },
    });
  });

  it('records role changes and admin edits with before and after', async () => {
    expect((await app.request('POST', '/api/v1/users/update/role', { token: admin.token, body: { id: user.id, role: 'user' } })).status).toBe(200);
    expect(await latest('user.role.changed')).toMatchObject({
      actor_id: admin.id,
      actor_email: admin.email,
      target_type: 'user',
      target_id: user.id,
      details: { email: user.email, role: { from: 'pending', to: 'user' } },
    });

    const edit = await app.request('POST', `/api/v1/users/${user.id}/update`, {
      token: admin.token,
      body: { name: 'Renamed', password: secrets.resetPassword, role: 'user' },
    });
    expect(edit.status).toBe(200);
    // The role did not change, so only the edit is recorded.
    expect((await events('action=user.role.changed')).total).toBe(1);
    expect((await latest('user.updated')).details).toEqual({ email: user.email, name: { from: 'Regular, "Quoted"', to: 'Renamed' }, password: 'changed' });
    user.password = secrets.resetPassword;
  });

  it("records the user's own password change and API key creation and revocation", async () => {
    const session = await app.request<Session>('POST', '/api/v1/auths/signin', { body: { email: user.email, password: user.password } });
    user.token = session.body.token;
    const changed = await app.request('POST', '/api/v1/auths/update/password', {
      token: user.token,
      body: { password: user.password, new_password: secrets.newPassword },
    });
    expect(changed.status).toBe(200);
    expect(await latest('auth.password.changed')).toMatchObject({ actor_id: user.id, target_id: user.id, details: {} });

    const created = await app.request<NewApiKey>('POST', '/api/v1/auths/api_key', { token: user.token });
    apiKey = created.body.api_key;
    expect(apiKey).toMatch(/^sk-/);
    const keyEvent = await latest('auth.api_key.created');
    expect(keyEvent).toMatchObject({ actor_id: user.id, target_id: user.id });
    expect(Object.keys(keyEvent.details)).toEqual(['key_id']);

    expect((await app.request('DELETE', '/api/v1/auths/api_key', { token: user.token })).status).toBe(200);
    expect(await latest('auth.api_key.revoked')).toMatchObject({ actor_id: user.id, target_id: user.id });
  });

  it('records connection changes, showing only that the key changed', async () => {
    const created = await app.request<Connection>('POST', '/api/v1/connections/', {
      token: admin.token,
      body: { type: 'openai', name: 'Primary', base_url: 'http://127.0.0.1:9/v1', api_key: secrets.connectionKey },
    });
    expect(created.status).toBe(200);
    const id = created.body.id;
    expect(await latest('connection.created')).toMatchObject({
      actor_id: admin.id,
      target_type: 'connection',
      target_id: id,
      details: { name: 'Primary', type: 'openai', base_url: 'http://127.0.0.1:9/v1', api_key: 'set', enabled: true },
    });

    const renamed = await app.request<Connection>('POST', `/api/v1/connections/${id}/update`, { token: admin.token, body: { name: 'Renamed', api_key: secrets.connectionKey2 } });
    expect((await latest('connection.updated')).details).toEqual({ name: { from: 'Primary', to: 'Renamed' }, api_key: 'changed' });
    // Sending the masked key back keeps the stored one: no key change is recorded.
    await app.request('POST', `/api/v1/connections/${id}/update`, { token: admin.token, body: { enabled: false, api_key: renamed.body.api_key } });
    const second = await latest('connection.updated');
    expect(second.details).toEqual({ name: 'Renamed', enabled: { from: true, to: false } });

    expect((await app.request('DELETE', `/api/v1/connections/${id}`, { token: admin.token })).status).toBe(200);
    expect(await latest('connection.deleted')).toMatchObject({ target_id: id, details: { name: 'Renamed', api_key: 'set' } });
  });

  it('keeps credentials in a connection URL out of the log', async () => {
    const created = await app.request<Connection>('POST', '/api/v1/connections/', {
      token: admin.token,
      body: { type: 'ollama', name: 'Basic', base_url: `http://alice:${secrets.urlPassword}@127.0.0.1:9` },
    });
    expect(created.status).toBe(200);
    expect((await latest('connection.created')).details.base_url).toBe('http://127.0.0.1:9/');
    await app.request('POST', `/api/v1/connections/${created.body.id}/update`, {
      token: admin.token,
      body: { base_url: `http://alice:${secrets.urlPassword}-2@127.0.0.1:9` },
    });
    expect((await latest('connection.updated')).details).toEqual({ name: 'Basic', base_url: 'credentials changed' });
    await app.request('DELETE', `/api/v1/connections/${created.body.id}`, { token: admin.token });
  });

  it('records preset creation, changes (including toggles) and deletion', async () => {
    const body = { id: 'team/helper', base_model_id: 'fake-model', name: 'Helper', params: { system: 'Be brief.', temperature: 0.2 } };
    expect((await app.request('POST', '/api/v1/models/create', { token: admin.token, body })).status).toBe(200);
    expect(await latest('preset.created')).toMatchObject({
      target_type: 'preset',
      target_id: 'team/helper',
      details: { name: 'Helper', base_model_id: 'fake-model', system_prompt: 'Be brief.', params: { temperature: 0.2 }, is_active: true },
    });
    await app.request('POST', '/api/v1/models/model/update?id=team/helper', { token: admin.token, body: { params: { system: 'Be thorough.' } } });
    expect((await latest('preset.updated')).details).toEqual({
      name: 'Helper',
      system_prompt: { from: 'Be brief.', to: 'Be thorough.' },
      params: { from: { temperature: 0.2 }, to: {} },
    });
    await app.request('POST', '/api/v1/models/model/toggle?id=team/helper', { token: admin.token });
    expect((await latest('preset.updated')).details).toEqual({ name: 'Helper', is_active: { from: true, to: false } });
    expect((await app.request('DELETE', '/api/v1/models/model/delete?id=team/helper', { token: admin.token })).status).toBe(200);
    expect(await latest('preset.deleted')).toMatchObject({ actor_id: admin.id, target_id: 'team/helper', details: { name: 'Helper' } });
  });

  it('records runtime settings changes, and nothing when nothing changed', async () => {
    await app.request('POST', '/api/v1/auths/admin/config', { token: admin.token, body: { ENABLE_SIGNUP: false, DEFAULT_USER_ROLE: 'pending' } });
    expect(await latest('settings.updated')).toMatchObject({ actor_id: admin.id, details: { ENABLE_SIGNUP: { from: true, to: false } } });
    expect((await latest('settings.updated')).details).not.toHaveProperty('DEFAULT_USER_ROLE');
    await app.request('POST', '/api/v1/auths/admin/config', { token: admin.token, body: { ENABLE_SIGNUP: false } });
    expect((await events('action=settings.updated')).total).toBe(1);
    await app.request('POST', '/api/v1/auths/admin/config', { token: admin.token, body: { ENABLE_SIGNUP: true } });
  });

  it('records a user deletion, and nothing for requests that were refused', async () => {
    const before = (await events()).total;
    expect((await app.request('DELETE', `/api/v1/users/${admin.id}`, { token: admin.token })).status).toBe(400);
    expect((await app.request('POST', '/api/v1/users/update/role', { token: admin.token, body: { id: admin.id, role: 'user' } })).status).toBe(400);
    expect((await app.request('POST', '/api/v1/connections/nope/update', { token: admin.token, body: { name: 'x' } })).status).toBe(404);
    expect((await app.request('DELETE', '/api/v1/models/model/delete?id=nope', { token: admin.token })).status).toBe(404);
    expect((await app.request('DELETE', '/api/v1/auths/api_key', { token: user.token })).status).toBe(404);
    expect((await app.request('POST', '/api/v1/users/update/role', { token: user.token, body: { id: user.id, role: 'admin' } })).status).toBe(403);
    expect((await events()).total).toBe(before);

    const doomed = await signUp(app, { name: 'Doomed' });
    expect((await app.request('DELETE', `/api/v1/users/${doomed.id}`, { token: admin.token })).status).toBe(200);
    expect(await latest('user.deleted')).toMatchObject({
      actor_id: admin.id,
      target_type: 'user',
      target_id: doomed.id,
      details: { email: doomed.email, name: 'Doomed', role: 'pending' },
    });
  });

  it('never stores a password, API key or token', async () => {
    const all = JSON.stringify((await events()).events);
    const csv = await (await fetch(`${app.url}/api/v1/audit/export.csv`, { headers: { authorization: `Bearer ${admin.token}` } })).text();
    for (const text of [all, csv]) {
      for (const secret of [...Object.values(secrets), apiKey, admin.token, user.token]) expect(text).not.toContain(secret);
      expect(text).not.toMatch(/\$argon2/);
    }
  });

  it('filters by action (exact or dotted prefix), actor, target and time, newest first', async () => {
    const everything = await events();
    const ats = everything.events.map((event) => event.at);
    expect(ats).toEqual([...ats].sort((a, b) => b - a));

    const auth = await events('action=auth');
    expect(auth.total).toBe(everything.events.filter((event) => event.action.startsWith('auth.')).length);
    expect(new Set(auth.events.map((event) => event.action))).toEqual(
      new Set(['auth.signup', 'auth.signin.success', 'auth.signin.failure', 'auth.password.changed', 'auth.api_key.created', 'auth.api_key.revoked']),
    );
    const signins = everything.events.filter((event) => event.action.startsWith('auth.signin.')).length;
    expect(signins).toBeGreaterThanOrEqual(4);
    expect((await events('action=auth.signin')).total).toBe(signins);
    // A prefix must end at a dot: `auth.sign` names no action.
    expect((await events('action=auth.sign')).total).toBe(0);
    // LIKE wildcards in the filter are literal.
    expect((await events('action=auth%25')).total).toBe(0);

    const byUser = await events(`actor=${user.id}`);
    expect(byUser.total).toBeGreaterThan(0);
    expect(byUser.events.every((event) => event.actor_id === user.id)).toBe(true);
    const byEmail = await events(`actor=${encodeURIComponent(user.email.slice(0, 14).toUpperCase())}`);
    expect(byEmail.events.map((event) => event.id).sort()).toEqual(byUser.events.map((event) => event.id).sort());

    const aboutUser = await events(`target=${user.id}&action=user`);
    expect(aboutUser.events.map((event) => event.action).sort()).toEqual(['user.role.changed', 'user.updated']);
    expect((await events('target_type=preset')).total).toBe(4);

    const now = Math.floor(Date.now() / 1000);
    expect((await events(`from=${now + 60}`)).total).toBe(0);
    expect((await events('to=2000-01-01')).total).toBe(0);
    expect((await events(`from=${now - 3600}&to=${now + 60}`)).total).toBe(everything.total);
    const today = new Date().toISOString().slice(0, 10);
    expect((await events(`from=${today}&to=${today}`)).total).toBe(everything.total);
    expect((await events(`from=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`)).total).toBe(everything.total);
  });

  it('pages through the matching events without gaps or repeats', async () => {
    const everything = await events();
    const seen: string[] = [];
    for (let page = 1; page <= Math.ceil(everything.total / 4); page += 1) {
      const response = await app.request<AuditPage>('GET', `/api/v1/audit/?limit=4&page=${page}`, { token: admin.token });
      expect(response.body.total).toBe(everything.total);
      seen.push(...response.body.events.map((event) => event.id));
    }
    expect(seen).toEqual(everything.events.map((event) => event.id));
    const beyond = await app.request('GET', '/api/v1/audit/?limit=4&page=999', { token: admin.token });
    expect(beyond.body).toEqual({ events: [], total: everything.total });
    const defaults = await app.request<AuditPage>('GET', '/api/v1/audit/', { token: admin.token });
    expect(defaults.body.events).toHaveLength(Math.min(50, everything.total));
  });

  it('exports the filtered log as CSV that reads back to the same events', async () => {
    const response = await fetch(`${app.url}/api/v1/audit/export.csv?action=user`, { headers: { authorization: `Bearer ${admin.token}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(response.headers.get('content-disposition')).toMatch(/attachment; filename="audit-log\.csv"/);
    const [header, ...rows] = parseCsv(await response.text());
    expect(header).toEqual(['time', 'action', 'actor_id', 'actor_email', 'target_type', 'target_id', 'ip', 'request_id', 'details', 'id']);
    const listed = (await events('action=user')).events;
    expect(rows).toHaveLength(listed.length);
    rows.forEach((row, i) => {
      const record = Object.fromEntries(header!.map((name, column) => [name, row[column]]));
      const event = listed[i]!;
      expect(record.id).toBe(event.id);
      expect(record.action).toBe(event.action);
      expect(record.actor_id).toBe(event.actor_id ?? '');
      expect(record.target_id).toBe(event.target_id ?? '');
      expect(Math.floor(Date.parse(record.time!) / 1000)).toBe(event.at);
      // Commas and quotes inside the details JSON survive the round trip.
      expect(JSON.parse(record.details!)).toEqual(event.details);
    });
    expect(rows.some((row) => row[8]!.includes('"Regular, \\"Quoted\\""'))).toBe(true);
  });
});

describe('audit log: when it cannot be written', () => {
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    ({ app, admin } = await startWithUsers());
    await app.parley.platform.db.kysely.schema.alterTable('audit_events').renameTo('audit_events_gone').execute();
  });
  afterAll(() => app.close());

  it('fails an action it records in the same transaction, leaving nothing changed', async () => {
    const before = await app.request<UserList>('GET', '/api/v1/users/', { token: admin.token });
    const response = await app.request('POST', '/api/v1/auths/signup', { body: { email: 'late@example.com', password: 'long enough pw', name: 'Late' } });
    expect(response.status).toBe(500);
    expect((await app.request<UserList>('GET', '/api/v1/users/', { token: admin.token })).body.total).toBe(before.body.total);
    expect((await app.request('POST', '/api/v1/auths/api_key', { token: admin.token })).status).toBe(500);
    expect((await app.request('GET', '/api/v1/auths/api_key', { token: admin.token })).status).toBe(404);
  });

  it('completes an action it records afterwards', async () => {
    const created = await app.request<Connection>('POST', '/api/v1/connections/', { token: admin.token, body: { type: 'ollama', base_url: 'http://127.0.0.1:9' } });
    expect(created.status).toBe(200);
    expect((await app.request('GET', `/api/v1/connections/${created.body.id}`, { token: admin.token })).status).toBe(200);
    const signin = await app.request('POST', '/api/v1/auths/signin', { body: { email: admin.email, password: admin.password } });
    expect(signin.status).toBe(200);
  });
});
