import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminAndUser, newChat, type TestUser } from './support/factories.js';
import { logOf } from './support/orphans.js';
import { eventually, parseSse } from './support/streams.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { testDialect } from './support/test-database.js';
import type { Chat } from './support/wire.js';

const answers: Record<string, string> = { 'nul-model': 'before\u0000after', 'poison-model': 'a poison answer', 'blip-model': 'a steady answer' };

/** An OpenAI-compatible upstream answering each model's fixed text in one chunk; counts what it was asked. */
async function startUpstream() {
  const asked: string[] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk));
    request.on('end', () => {
      if (request.url?.endsWith('/models')) {
        response.end(JSON.stringify({ data: Object.keys(answers).map((id) => ({ id })) }));
        return;
      }
      const model = (JSON.parse(body) as { model: string }).model;
      asked.push(model);
      const chunk = (delta: object, finish: string | null) =>
        `data: ${JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end(chunk({ role: 'assistant', content: answers[model] }, null) + chunk({}, 'stop') + 'data: [DONE]\n\n');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  return { url, asked, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

// Saving an answer can fail for good; that must neither lose the answer nor make the model answer it again.
describe('saving answers', () => {
  let upstream: Awaited<ReturnType<typeof startUpstream>>;
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;

  /** Streams a saved answer of `model` to its end; returns the chat and the generation id. */
  async function ask(model: string) {
    const chat = await newChat(app, user);
    const response = await fetch(`${app.url}/api/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Say it' }], stream: true, chat_id: chat.id, parent_id: null }),
    });
    const id = response.headers.get('x-parley-generation-id')!;
    const events = parseSse(await response.text());
    expect(events.at(-1)?.data).toBe('[DONE]');
    return { chatId: chat.id, id };
  }

  async function savedAnswer(chatId: string, id: string) {
    const chat = await app.request<Chat>('GET', `/api/v1/chats/${chatId}`, { token: user.token });
    return chat.body.chat.history.messages[id]!;
  }

  beforeAll(async () => {
    upstream = await startUpstream();
    app = await startTestApp({ OPENAI_API_BASE_URLS: upstream.url, GENERATION_LEASE_TIMEOUT: '1', ENABLE_TITLE_GENERATION: 'false' });
    ({ admin, user } = await adminAndUser(app));
    // A database that refuses some answers for good, as a constraint or invalid data would.
    const db = app.parley.platform.db.kysely;
    if (testDialect === 'postgres') {
      await sql`create function refuse_poison() returns trigger language plpgsql as $$
        begin if new.content like '%poison%' then raise exception 'poisoned answer' using errcode = '23514'; end if; return new; end $$`.execute(db);
      await sql`create trigger refuse_poison before update on messages for each row execute function refuse_poison()`.execute(db);
      // A passing failure (a serialization failure) while the table `blip` has a row.
      await sql`create table blip (id integer)`.execute(db);
      await sql`create function refuse_during_blip() returns trigger language plpgsql as $$
        begin if new.content = 'a steady answer' and exists (select 1 from blip) then raise exception 'database blip' using errcode = '40001'; end if; return new; end $$`.execute(db);
      await sql`create trigger refuse_during_blip before update on messages for each row execute function refuse_during_blip()`.execute(db);
    } else {
      await sql`create trigger refuse_poison before update of content on messages when new.content like '%poison%'
        begin select raise(abort, 'poisoned answer'); end`.execute(db);
    }
  });
  afterAll(async () => {
    await app.close();
    await upstream.close();
  });

  // Upstream bytes are untrusted: NUL ends the answer as an error (PostgreSQL could not store it anyway).
  it('ends an answer holding U+0000 as a saved error, asking the model once', async () => {
    const { chatId, id } = await ask('nul-model');
    const answer = await savedAnswer(chatId, id);
    expect(answer).toMatchObject({ done: false, error: { content: expect.stringMatching(/NUL character \(U\+0000\)/) } });
    expect(JSON.stringify(answer)).not.toContain('\\u0000');
    expect((await logOf(app, id)).at(-1)).toMatchObject({ kind: 'end', outcome: { status: 'error' } });
    expect(upstream.asked.filter((model) => model === 'nul-model')).toHaveLength(1);
  });

  it('saves an answer the database refuses for good as that error at once: not retried, never taken over', async () => {
    const errorsBefore = (await app.request<{ errors: number }>('GET', '/api/v1/analytics/summary', { token: admin.token })).body.errors;
    const started = Date.now();
    const { chatId, id } = await ask('poison-model');
    // Retrying would have taken seconds (six attempts, backing off).
    expect(Date.now() - started).toBeLessThan(2000);
    const answer = await savedAnswer(chatId, id);
    expect(answer).toMatchObject({ done: false, content: '', error: { content: expect.stringMatching(/could not be saved: .*poisoned answer/) } });
    // Its log ends and its message is no longer streaming: no instance will ask the model again.
    expect((await logOf(app, id)).at(-1)).toMatchObject({ kind: 'end', outcome: { status: 'error' } });
    expect(upstream.asked.filter((model) => model === 'poison-model')).toHaveLength(1);
    // Usage counts it as one failed answer.
    await eventually(async () => {
      const summary = await app.request<{ errors: number }>('GET', '/api/v1/analytics/summary', { token: admin.token });
      return summary.body.errors === errorsBefore + 1 ? true : undefined;
    });
  });

  // PostgreSQL only: a trigger can raise a passing error there (SQLite's raise as constraint failures).
  it.skipIf(testDialect !== 'postgres')('saves an answer that ended during a database blip from its log once the database is back, asking the model once', async () => {
    const db = app.parley.platform.db.kysely;
    await sql`insert into blip values (1)`.execute(db);
    // The stream ends once saving has been tried six times over a few seconds.
    const { chatId, id } = await ask('blip-model');
    expect((await logOf(app, id)).at(-1)).toMatchObject({ kind: 'unsaved', outcome: { status: 'done' } });
    await sql`delete from blip`.execute(db);

    const answer = await eventually(async () => {
      const saved = await savedAnswer(chatId, id);
      return saved.done ? saved : undefined;
    }, 10_000);
    expect(answer.content).toBe('a steady answer');
    expect((await logOf(app, id)).at(-1)).toMatchObject({ kind: 'end', outcome: { status: 'done' } });
    expect(upstream.asked.filter((model) => model === 'blip-model')).toHaveLength(1);
  }, 30_000);
});
