import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedText, startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { adminAndUser, newChat, type TestUser } from './support/factories.js';
import { orphanAnswer } from './support/orphans.js';
import { contentOf, parseSse } from './support/streams.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { jsonOf, type ErrorBody } from './support/wire.js';

const messages = [{ role: 'user', content: 'Tell me about rivers' }];
const full = expectedText({ model: 'fake-model', messages });

// A client holding an answer's x-parley-generation-id can always follow it: never a 404 for an answer that exists.
describe('following an answer by its generation id', () => {
  let fake: FakeLlm;
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;

  const post = (body: object) =>
    fetch(`${app.url}/api/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-model', messages, stream: true, ...body }),
    });
  const resume = (id: string, lastEventId?: string, token = user.token) =>
    fetch(`${app.url}/api/chat/completions/${id}/stream`, {
      headers: { authorization: `Bearer ${token}`, ...(lastEventId !== undefined ? { 'last-event-id': lastEventId } : {}) },
    });
  /** Forgets an answer's record and log, as shared state does 10 minutes after the answer (or when Redis loses them). */
  const forget = async (id: string) => {
    await app.parley.platform.shared.deleteCached(`generation:${id}:record`);
    await app.parley.platform.shared.deleteStream(`generation:${id}`);
  };

  beforeAll(async () => {
    fake = await startFakeLlm();
    app = await startTestApp({ OPENAI_API_BASE_URLS: `${fake.url}/v1`, GENERATION_LEASE_TIMEOUT: '1', ENABLE_TITLE_GENERATION: 'false' });
    ({ admin, user } = await adminAndUser(app));
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  it('has the record before the first byte goes out, however slow shared state is', async () => {
    const shared = app.parley.platform.shared;
    const setCached = shared.setCached.bind(shared);
    shared.setCached = async (key, value, ttlMs) => {
      if (key.endsWith(':record')) await new Promise((resolve) => setTimeout(resolve, 300));
      return setCached(key, value, ttlMs);
    };
    try {
      const chat = await newChat(app, user);
      const response = await post({ chat_id: chat.id, parent_id: null });
      const id = response.headers.get('x-parley-generation-id')!;
      // At once, before reading a byte of the answer.
      const [resumed, stopped] = await Promise.all([resume(id, '0'), app.request('POST', `/api/chat/completions/${id}/stop`, { token: user.token })]);
      expect(resumed.status).toBe(200);
      expect(stopped.status).toBe(200);
      await resumed.text();
      await response.text();
    } finally {
      shared.setCached = setCached;
    }
  });

  it('replays a finished answer whose log has expired from the chat: whole, and from a batch after dropping what was seen', async () => {
    const chat = await newChat(app, user);
    const response = await post({ chat_id: chat.id, parent_id: null });
    const id = response.headers.get('x-parley-generation-id')!;
    await response.text();
    await forget(id);

    const fromStart = parseSse(await (await resume(id)).text());
    expect(contentOf(fromStart.map((event) => event.data))).toBe(full);
    expect(fromStart.some((event) => event.data?.parley)).toBe(false);
    expect(fromStart.at(-1)?.data).toBe('[DONE]');

    const fromThird = parseSse(await (await resume(id, '3')).text());
    // The client drops the text it had (the rule in docs/api.md for `regenerate`) and shows what follows.
    expect(fromThird[0]?.data).toEqual({ parley: { event: 'takeover', mode: 'regenerate' } });
    expect(contentOf(fromThird.map((event) => event.data))).toBe(full);
    expect(fromThird.at(-1)?.data).toBe('[DONE]');
  });

  it('waits for an answer still being written whose log is lost, until it is saved', async () => {
    const orphan = await orphanAnswer(app, user, { partial: 'Half an' });
    await forget(orphan.id);
    // Its instance died and nothing can continue it: the sweeper ends it as interrupted, and the follower hears so.
    const resumed = await resume(orphan.id, '1');
    expect(resumed.status).toBe(200);
    const events = parseSse(await resumed.text());
    expect(events.at(-2)?.data.error.message).toMatch(/interrupted/);
    expect(events.at(-1)?.data).toBe('[DONE]');
  });

  it('answers 409 for a running answer that is not saved in a chat, 404 for unknown ids and other users\', 400 for bad ids', async () => {
    fake.setOptions({ tokenMs: 50 });
    try {
      const response = await post({});
      const id = response.headers.get('x-parley-generation-id')!;
      const unsaved = await resume(id);
      expect(unsaved.status).toBe(409);
      expect((await jsonOf<ErrorBody>(unsaved)).detail).toMatch(/not saved in a chat/);
      await app.request('POST', `/api/chat/completions/${id}/stop`, { token: user.token });
      await response.text();
    } finally {
      fake.setOptions({ tokenMs: 0 });
    }
    const chat = await newChat(app, user);
    const saved = await post({ chat_id: chat.id, parent_id: null });
    const id = saved.headers.get('x-parley-generation-id')!;
    await saved.text();
    const others = await resume(id, undefined, admin.token);
    expect(others.status).toBe(404);
    expect(await jsonOf<ErrorBody>(others)).toMatchObject({ code: 'not_found', detail: expect.any(String) });
    await forget(id);
    expect((await resume(id, undefined, admin.token)).status).toBe(404);
    expect((await resume('00000000-0000-4000-8000-000000000000')).status).toBe(404);
    for (const bad of ['abc', '-1', '1e3', '1.5', '99999999999', ' ']) {
      const malformed = await resume(id, bad);
      expect(malformed.status, bad).toBe(400);
      expect((await jsonOf<ErrorBody>(malformed)).code).toBe('validation_failed');
    }
  });
});
