import type { KyselyPlugin, UnknownRow } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportPages, readAllChats } from '../src/features/chats/chats.export.js';
import { newChat, promote, signUp, type TestUser } from './support/factories.js';
import { startWithUsers } from './support/start-with-users.js';
import type { TestApp } from './support/test-app.js';
import type { Chat } from './support/wire.js';

/** Records what every query returned: how many rows, and the stored bytes of the message rows among them. */
function rowSpy() {
  const queries: Array<{ kind: 'chats' | 'sizes' | 'messages' | 'other'; rows: number; bytes: number }> = [];
  const plugin: KyselyPlugin = {
    transformQuery: (args) => args.node,
    transformResult: async (args) => {
      const rows = args.result.rows as UnknownRow[];
      const first = rows[0] ?? {};
      const kind = 'content' in first ? 'messages' : 'bytes' in first ? 'sizes' : 'title' in first ? 'chats' : 'other';
      const bytes = rows.reduce((sum, row) => sum + (typeof row.content === 'string' ? Buffer.byteLength(row.content) : 0), 0);
      queries.push({ kind, rows: rows.length, bytes });
      return args.result;
    },
  };
  return { queries, plugin };
}

describe('exporting all chats (GET /api/v1/chats/all)', () => {
  let app: TestApp;
  let admin: TestUser;
  let owner: TestUser;
  let chats: Chat[];
  const mb = 1024 * 1024;

  beforeAll(async () => {
    ({ app, admin } = await startWithUsers());
    owner = await signUp(app);
    await promote(app, admin, owner, 'user');
    // Six chats of about 2.7 MB (three messages of 900 000 characters, some of them two bytes long),
    // an empty one and an archived one: far more than one page of messages.
    chats = [];
    for (let i = 0; i < 6; i++) {
      const messages = ['user', 'assistant', 'user'].map((role, j) => ({ role, content: `${i}.${j} ${(j === 1 ? 'é' : 'x').repeat(900_000)}` }));
      chats.push(await newChat(app, owner, { title: `Big ${i}`, messages }));
    }
    chats.push(await newChat(app, owner, { title: 'Empty' }));
    const archived = await newChat(app, owner, { title: 'Archived', messages: [{ role: 'user', content: 'old' }] });
    await app.request('POST', `/api/v1/chats/${archived.id}/archive`, { token: owner.token });
    chats.push((await app.request<Chat>('GET', `/api/v1/chats/${archived.id}`, { token: owner.token })).body);
  }, 120_000);
  afterAll(() => app.close());

  const byId = (list: Chat[]) => new Map(list.map((chat) => [chat.id, chat]));

  it('streams NDJSON, one whole chat per line, when asked as Open WebUI asks (Accept: application/x-ndjson)', async () => {
    const response = await fetch(`${app.url}/api/v1/chats/all`, { headers: { authorization: `Bearer ${owner.token}`, accept: 'application/x-ndjson' } });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    expect(response.headers.get('content-length')).toBeNull();
    const text = await response.text();
    expect(text.endsWith('\n')).toBe(true);
    const lines = text.slice(0, -1).split('\n').map((line) => JSON.parse(line) as Chat);
    expect(lines).toHaveLength(chats.length);
    // Each line is the chat exactly as reading it alone gives it.
    expect(byId(lines)).toEqual(byId(chats));
  });

  it('streams one JSON array for other clients, complete and well-formed', async () => {
    for (const accept of [undefined, 'application/json', '*/*', 'application/x-ndjson;q=0, application/json']) {
      const response = await fetch(`${app.url}/api/v1/chats/all`, {
        headers: { authorization: `Bearer ${owner.token}`, ...(accept ? { accept } : {}) },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      const list = (await response.json()) as Chat[];
      if (accept === undefined) expect(byId(list)).toEqual(byId(chats));
      else expect(list.map((chat) => chat.id).sort()).toEqual(chats.map((chat) => chat.id).sort());
    }
  });

  it('answers an empty array, or an empty NDJSON body, for a user without chats', async () => {
    const fresh = await signUp(app);
    await promote(app, admin, fresh, 'user');
    const array = await fetch(`${app.url}/api/v1/chats/all`, { headers: { authorization: `Bearer ${fresh.token}` } });
    expect(await array.text()).toBe('[]');
    const ndjson = await fetch(`${app.url}/api/v1/chats/all`, { headers: { authorization: `Bearer ${fresh.token}`, accept: 'application/x-ndjson' } });
    expect(ndjson.status).toBe(200);
    expect(await ndjson.text()).toBe('');
  });

  it('reads the database page by page: no query returns more than a page of messages', async () => {
    const { queries, plugin } = rowSpy();
    const exported = [];
    for await (const full of readAllChats(app.parley.platform.db.kysely.withPlugin(plugin), owner.id)) exported.push(full);
    expect(exported.map((full) => full.chat.id).sort()).toEqual(chats.map((chat) => chat.id).sort());
    expect(exported.flatMap((full) => full.messages)).toHaveLength(6 * 3 + 1);
    const messagePages = queries.filter((query) => query.kind === 'messages');
    // About 17 MB of text in pages of at most 4 MiB (a message over the budget would go alone).
    expect(messagePages.length).toBeGreaterThanOrEqual(5);
    for (const page of messagePages) expect(page.bytes <= exportPages.bytes || page.rows === 1).toBe(true);
    expect(Math.max(...messagePages.map((page) => page.rows))).toBeLessThan(6 * 3);
    for (const query of queries.filter((q) => q.kind === 'chats')) expect(query.rows).toBeLessThanOrEqual(exportPages.chats);
  });

  it('pages through chats too, and a chat edited meanwhile is still exported exactly once', async () => {
    const { queries, plugin } = rowSpy();
    const pages = { chats: 2, messages: 3, bytes: 2 * mb };
    const reading = readAllChats(app.parley.platform.db.kysely.withPlugin(plugin), owner.id, pages);
    const seen: string[] = [];
    for await (const full of reading) {
      if (seen.length === 0) {
        // Editing bumps a chat to the newest; an export ordered by activity would skip or repeat it.
        for (const chat of chats) await app.request('POST', `/api/v1/chats/${chat.id}`, { token: owner.token, body: { chat: { title: `${chat.title}.` } } });
      }
      seen.push(full.chat.id);
    }
    expect(seen.sort()).toEqual(chats.map((chat) => chat.id).sort());
    expect(queries.filter((q) => q.kind === 'chats').every((q) => q.rows <= 2)).toBe(true);
    expect(queries.filter((q) => q.kind === 'messages').every((q) => q.rows <= 3)).toBe(true);
  });

  it("never includes another user's chats", async () => {
    const response = await app.request<Chat[]>('GET', '/api/v1/chats/all', { token: admin.token });
    expect(response.body.some((chat) => chats.some((mine) => mine.id === chat.id))).toBe(false);
  });
});
