import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newChat, promote, signUp, type TestUser } from './support/factories.js';
import { startWithUsers } from './support/start-with-users.js';
import type { TestApp } from './support/test-app.js';
import type { ErrorBody, Chat } from './support/wire.js';

// Each stored message counts its UTF-8 text plus its JSON columns: `{}` details and `[]` files, 4 bytes.
const limit = 10_000;
const text = (bytes: number) => 'x'.repeat(bytes - 4);

describe('the per-user limit on stored chat content (CHAT_MAX_CONTENT_BYTES_PER_USER)', () => {
  let app: TestApp;
  let admin: TestUser;

  beforeAll(async () => {
    ({ app, admin } = await startWithUsers({ CHAT_MAX_CONTENT_BYTES_PER_USER: String(limit) }));
  });
  afterAll(() => app.close());

  async function freshUser(): Promise<TestUser> {
    const user = await signUp(app);
    await promote(app, admin, user, 'user');
    return user;
  }
  const chatsOf = async (user: TestUser) => (await app.request<Chat[]>('GET', '/api/v1/chats/all', { token: user.token })).body;
  const expectQuota = (response: { status: number; body: unknown }) => {
    expect(response.status).toBe(413);
    const body = response.body as ErrorBody;
    expect(body.code).toBe('quota_exceeded');
    expect(body.detail).toMatch(/limit of 10000/);
  };

  it('lets a user create chats up to the limit, and refuses the one that would pass it, storing nothing', async () => {
    const user = await freshUser();
    await newChat(app, user, { title: 'A', messages: [{ role: 'user', content: text(6000) }] });
    await newChat(app, user, { title: 'B', messages: [{ role: 'user', content: text(4000) }] });
    const over = await app.request('POST', '/api/v1/chats/new', { token: user.token, body: { chat: { title: 'C', messages: [{ role: 'user', content: 'x' }] } } });
    expectQuota(over);
    expect((await chatsOf(user)).map((chat) => chat.title).sort()).toEqual(['A', 'B']);
    // A chat without messages adds nothing, so it is still allowed.
    expect((await app.request('POST', '/api/v1/chats/new', { token: user.token, body: { chat: { title: 'Empty' } } })).status).toBe(200);
    // Another user has a limit of their own.
    const other = await freshUser();
    await newChat(app, other, { messages: [{ role: 'user', content: text(9000) }] });
  });

  it('counts UTF-8 bytes, not characters', async () => {
    const user = await freshUser();
    // 5 000 characters of two bytes each: 10 004 bytes with the JSON columns.
    const response = await app.request('POST', '/api/v1/chats/new', { token: user.token, body: { chat: { messages: [{ role: 'user', content: 'é'.repeat(5000) }] } } });
    expectQuota(response);
  });

  it('refuses an update that grows past the limit, and allows one that shrinks or only renames', async () => {
    const user = await freshUser();
    const chat = await newChat(app, user, { title: 'Grow', messages: [{ role: 'user', content: text(8000) }] });
    const grown = await app.request('POST', `/api/v1/chats/${chat.id}`, { token: user.token, body: { chat: { messages: [{ role: 'user', content: text(10_001) }] } } });
    expectQuota(grown);
    expect((await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token })).body.chat.messages[0]!.content).toBe(text(8000));
    const replaced = await app.request('POST', `/api/v1/chats/${chat.id}`, { token: user.token, body: { chat: { messages: [{ role: 'user', content: text(10_000) }] } } });
    expect(replaced.status).toBe(200);
    const renamed = await app.request('POST', `/api/v1/chats/${chat.id}`, { token: user.token, body: { chat: { title: 'Renamed' } } });
    expect(renamed.status).toBe(200);
  });

  it('lets a user already over the limit (it was lowered) trim, but not grow', async () => {
    const user = await freshUser();
    const chat = await newChat(app, user, { title: 'Old', messages: [{ role: 'user', content: 'short' }] });
    // As if the limit had been lowered after this was stored.
    await app.parley.platform.db.kysely.updateTable('messages').set({ content: text(20_000) }).where('chat_id', '=', chat.id).execute();
    const trimmed = await app.request('POST', `/api/v1/chats/${chat.id}`, { token: user.token, body: { chat: { messages: [{ role: 'user', content: text(15_000) }] } } });
    expect(trimmed.status).toBe(200);
    expectQuota(await app.request('POST', `/api/v1/chats/${chat.id}/messages`, { token: user.token, body: { parent_id: null, role: 'user', content: 'more' } }));
  });

  it('refuses an import that would pass the limit as a whole, importing none of it', async () => {
    const user = await freshUser();
    const item = (title: string) => ({ chat: { title, messages: [{ role: 'user', content: text(4000) }] } });
    expectQuota(await app.request('POST', '/api/v1/chats/import', { token: user.token, body: [item('1'), item('2'), item('3')] }));
    expect(await chatsOf(user)).toEqual([]);
    expect((await app.request('POST', '/api/v1/chats/import', { token: user.token, body: [item('1'), item('2')] })).status).toBe(200);
  });

  it('refuses a new message or a clone that would pass the limit', async () => {
    const user = await freshUser();
    const chat = await newChat(app, user, { messages: [{ role: 'user', content: text(6000) }] });
    expectQuota(await app.request('POST', `/api/v1/chats/${chat.id}/messages`, { token: user.token, body: { parent_id: null, role: 'user', content: text(4001) } }));
    expect((await app.request('POST', `/api/v1/chats/${chat.id}/messages`, { token: user.token, body: { parent_id: null, role: 'user', content: text(3000) } })).status).toBe(200);
    expectQuota(await app.request('POST', `/api/v1/chats/${chat.id}/clone`, { token: user.token, body: {} }));
    expect(await chatsOf(user)).toHaveLength(1);
  });
});
