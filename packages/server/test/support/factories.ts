import { randomBytes } from 'node:crypto';
import type { TestApp } from './test-app.js';
import type { Chat, Session } from './wire.js';

/** A signed-up user with their token. */
export interface TestUser {
  id: string;
  email: string;
  role: string;
  token: string;
  password: string;
}

/** Signs up a user; the first one in an app becomes admin. */
export async function signUp(app: TestApp, overrides: { email?: string; name?: string; password?: string } = {}): Promise<TestUser> {
  const email = overrides.email ?? `user-${randomBytes(4).toString('hex')}@example.com`;
  const password = overrides.password ?? 'correct horse battery';
  const response = await app.request<Session>('POST', '/api/v1/auths/signup', {
    body: { email, password, name: overrides.name ?? 'Test User' },
  });
  if (response.status !== 200) throw new Error(`signup failed: ${response.status} ${JSON.stringify(response.body)}`);
  return { id: response.body.id, email, role: response.body.role, token: response.body.token, password };
}

/** Signs up the admin (first user) and one approved user. */
export async function adminAndUser(app: TestApp): Promise<{ admin: TestUser; user: TestUser }> {
  const admin = await signUp(app, { name: 'Admin' });
  const user = await signUp(app, { name: 'Regular' });
  await promote(app, admin, user, 'user');
  return { admin, user: { ...user, role: 'user' } };
}

/** Sets a user's role through the admin API. */
export async function promote(app: TestApp, admin: TestUser, user: TestUser, role: 'user' | 'admin' | 'pending'): Promise<void> {
  const response = await app.request('POST', '/api/v1/users/update/role', { token: admin.token, body: { id: user.id, role } });
  if (response.status !== 200) throw new Error(`role change failed: ${response.status} ${JSON.stringify(response.body)}`);
}

/** Creates a chat for `owner` from Open WebUI's chat JSON (empty: a new chat). */
export async function newChat(app: TestApp, owner: TestUser, chat: Record<string, unknown> = {}): Promise<Chat> {
  const response = await app.request<Chat>('POST', '/api/v1/chats/new', { token: owner.token, body: { chat } });
  if (response.status !== 200) throw new Error(`chat creation failed: ${response.status} ${JSON.stringify(response.body)}`);
  return response.body;
}
