import { randomUUID } from 'node:crypto';
import type { FakeLlm } from '../../../../fake-llm/src/index.js';
import { closedPort } from '../ports.js';
import type { TestApp } from '../test-app.js';
import type { Chat, Connection, Preset, Session, UploadedFile, UserList } from '../wire.js';

// What the fuzz cases point at: the callers, and things that exist (chats, accounts to act on, a
// connection to the fake model server, a preset, a file), restored before each route.

/** Who sends a case: a signed-in account (re-signed in when a case signs it out) or nobody. */
export interface Caller {
  name: 'admin' | 'user' | 'pending' | 'anonymous';
  email?: string;
  password?: string;
  token?: string;
}

/** An account cases act on (role changes, updates, deletion, wrong sign-ins), never one that sends cases. */
export interface Spare {
  id: string;
  email: string;
}

/** Ids of things that exist, refreshed before each route, so cases reach past "not found". */
export interface Pools {
  chats: string[];
  messages: string[];
  users: string[];
  userEmails: string[];
  connections: string[];
  presets: string[];
  files: string[];
  models: string[];
  upstreamUrls: string[];
}

/** Signs `caller` in again when a case signed it out (sign-out, a revoked key). */
export async function keepSignedIn(app: TestApp, caller: Caller): Promise<void> {
  if (!caller.token) return;
  const me = await app.request('GET', '/api/v1/auths/', { token: caller.token });
  if (me.status !== 401) return;
  const session = await app.request<Session>('POST', '/api/v1/auths/signin', { body: { email: caller.email, password: caller.password } });
  if (session.status !== 200) throw new Error(`could not sign ${caller.name} in again: ${session.status} ${JSON.stringify(session.body)}`);
  caller.token = session.body.token;
}

/** A chat of `owner` with a user message and an answer under it, kept while it exists. */
interface FixtureChat {
  owner: Caller;
  chatId: string;
  messageIds: string[];
}

/** `chat` when it still exists, else a fresh one for the same owner: cases delete chats. */
async function ensureChat(app: TestApp, owner: Caller, chat?: FixtureChat): Promise<FixtureChat> {
  if (chat && (await app.request('GET', `/api/v1/chats/${chat.chatId}`, { token: owner.token })).status === 200) return chat;
  const [first, second] = [randomUUID(), randomUUID()];
  const history = {
    currentId: second,
    messages: {
      [first]: { id: first, parentId: null, childrenIds: [second], role: 'user', content: 'Tell me about rivers', timestamp: 1_700_000_000 },
      [second]: { id: second, parentId: first, childrenIds: [], role: 'assistant', content: 'Rivers flow.', model: 'fake-model', timestamp: 1_700_000_001 },
    },
  };
  const response = await app.request<Chat>('POST', '/api/v1/chats/new', { token: owner.token, body: { chat: { title: 'Fuzz fixture', models: ['fake-model'], history } } });
  if (response.status !== 200) throw new Error(`fixture chat: ${response.status} ${JSON.stringify(response.body)}`);
  return { owner, chatId: response.body.id, messageIds: [first, second] };
}

/** What the fixtures keep between routes: the accounts cases act on and the fixture chats. */
export interface FixtureState {
  spares: Spare[];
  chats: FixtureChat[];
}

/**
 * Makes sure what the cases point at exists (chats, spare accounts to act on, a connection to the fake
 * model server, a preset, a file), undoing what earlier cases deleted or switched off; answers the ids.
 */
export async function refreshFixtures(app: TestApp, fake: FakeLlm, admin: Caller, user: Caller, state: FixtureState): Promise<Pools> {
  const { spares } = state;
  await keepSignedIn(app, admin);
  await keepSignedIn(app, user);
  await app.request('POST', '/api/v1/auths/admin/config', { token: admin.token, body: { ENABLE_SIGNUP: true, DEFAULT_USER_ROLE: 'pending' } });

  state.chats = await Promise.all([admin, user].map((owner) => ensureChat(app, owner, state.chats.find((chat) => chat.owner === owner))));
  const chats = state.chats;

  const listed = await app.request<UserList>('GET', '/api/v1/users/?limit=1000', { token: admin.token });
  const existing = new Set(listed.body.users.map((listedUser) => listedUser.id));
  const alive = spares.filter((spare) => existing.has(spare.id));
  while (alive.length < 2) {
    const email = `spare-${randomUUID().slice(0, 8)}@example.com`;
    const signup = await app.request<Session>('POST', '/api/v1/auths/signup', { body: { email, password: `spare-password-${randomUUID()}`, name: 'Spare' } });
    // Sign-ups may be rate-limited by now: cases then act on the spares that are left, or on random ids.
    if (signup.status !== 200) break;
    const spare = { id: signup.body.id, email };
    spares.push(spare);
    alive.push(spare);
  }

  let connections = (await app.request<Connection[]>('GET', '/api/v1/connections/', { token: admin.token })).body;
  const upstream = `${fake.url}/v1`;
  if (!connections.some((connection) => connection.enabled && connection.base_url === upstream && !connection.prefix_id)) {
    await app.request('POST', '/api/v1/connections/', { token: admin.token, body: { type: 'openai', base_url: upstream, enabled: true } });
    connections = (await app.request<Connection[]>('GET', '/api/v1/connections/', { token: admin.token })).body;
  }

  let presets = (await app.request<Preset[]>('GET', '/api/v1/models/', { token: admin.token })).body;
  if (!presets.some((preset) => preset.id === 'fuzz-preset')) {
    await app.request('POST', '/api/v1/models/create', { token: admin.token, body: { id: 'fuzz-preset', base_model_id: 'fake-model', name: 'Fuzz preset' } });
    presets = (await app.request<Preset[]>('GET', '/api/v1/models/', { token: admin.token })).body;
  }

  let files = (await app.request<UploadedFile[]>('GET', '/api/v1/files/', { token: admin.token })).body;
  if (files.length === 0) {
    const form = new FormData();
    form.append('file', new Blob(['fuzz fixture']), 'fixture.txt');
    await fetch(`${app.url}/api/v1/files/`, { method: 'POST', headers: { authorization: `Bearer ${admin.token}` }, body: form });
    files = (await app.request<UploadedFile[]>('GET', '/api/v1/files/', { token: admin.token })).body;
  }

  return {
    chats: chats.map((chat) => chat.chatId),
    messages: chats.flatMap((chat) => chat.messageIds),
    users: alive.map((spare) => spare.id),
    userEmails: alive.map((spare) => spare.email),
    connections: connections.map((connection) => connection.id),
    presets: presets.map((preset) => preset.id),
    files: files.map((file) => file.id),
    models: ['fake-model', 'fake-model-2', ...presets.map((preset) => preset.id)],
    upstreamUrls: [upstream, fake.url, `http://127.0.0.1:${await closedPort()}/v1`],
  };
}

