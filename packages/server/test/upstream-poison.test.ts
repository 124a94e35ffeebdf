import { expectedAnswer, expectedText, startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newChat, type TestUser } from './support/factories.js';
import { sample } from './support/metrics.js';
import { contentOf, parseSse, type SseData } from './support/streams.js';
import { startWithUsers } from './support/start-with-users.js';
import type { TestApp } from './support/test-app.js';
import { jsonOf, type ErrorBody, type Chat } from './support/wire.js';

const messages = [{ role: 'user', content: 'Tell me about rivers' }];
// Both connections serve every model: Ollama's ids are plain, the OpenAI connection's get `@OpenAI 1`.
const formats = [
  { name: 'OpenAI', id: (model: string) => `${model}@OpenAI 1` },
  { name: 'Ollama', id: (model: string) => model },
] as const;

/** The poisons that end an answer after three good tokens, and the error each must give. */
const brokenMidstream: Array<[model: string, error: RegExp]> = [
  ['poison-null', /^upstream sent an? (event|line) that is not a JSON object$/],
  ['poison-non-object', /^upstream sent an? (event|line) that is not a JSON object$/],
  ['poison-invalid-json', /^upstream sent an? (event|line) that is not JSON$/],
  ['poison-non-string', /^upstream sent content that is not text \(number\)$/],
  ['poison-nul', /^upstream sent a NUL character \(U\+0000\) in the answer$/],
  ['poison-cut', /^upstream ended the stream before the answer was complete$/],
];

describe('a poisoned upstream stream ends its answer with an error, never the process', () => {
  let fake: FakeLlm;
  let app: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    fake = await startFakeLlm();
    ({ app, user } = await startWithUsers({ OPENAI_API_BASE_URLS: `${fake.url}/v1`, OLLAMA_BASE_URLS: fake.url }));
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  const post = (body: Record<string, unknown>) =>
    fetch(`${app.url}/api/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages, ...body }),
    });

  const lastMessage = async (chatId: string) => {
    const got = await app.request<Chat>('GET', `/api/v1/chats/${chatId}`, { token: user.token });
    return got.body.chat.messages.at(-1) as unknown as { role: string; content: string; done?: boolean; error?: { content: string } };
  };

  /** Streams one saved answer; returns its events and the assistant message as saved. */
  async function streamSaved(model: string) {
    const chat = await newChat(app, user);
    const response = await post({ model, stream: true, chat_id: chat.id, parent_id: null });
    expect(response.status, model).toBe(200);
    const events: SseData[] = parseSse(await response.text()).map((event) => event.data);
    // The end of the stream is sent only once the answer is saved: no waiting needed.
    return { events, saved: await lastMessage(chat.id) };
  }

  for (const format of formats) {
    it(`${format.name}: \`null\` as an event is an error event and a saved error, and the server lives on`, async () => {
      const { events, saved } = await streamSaved(format.id('poison-null'));
      expect(events.filter((event) => event.error).map((event) => event.error.message)).toEqual([expect.stringMatching(/not a JSON object/)]);
      expect(events.at(-1)).toBe('[DONE]');
      expect(saved).toMatchObject({ role: 'assistant', error: { content: expect.stringMatching(/not a JSON object/) } });
      // The good tokens before the poison are kept; nothing after it.
      expect(saved.content).toBe(contentOf(events));
      const healthy = await streamSaved(format.id('fake-model'));
      expect(healthy.saved.content).toBe(expectedText({ model: 'fake-model', messages }));
    });

    it(`${format.name}: every poison mid-stream gives one clear error event and a saved error with the good tokens only`, async () => {
      for (const [model, error] of brokenMidstream) {
        const { events, saved } = await streamSaved(format.id(model));
        const errors = events.filter((event) => event.error).map((event) => event.error.message);
        expect(errors, model).toEqual([expect.stringMatching(error)]);
        expect(events.at(-1), model).toBe('[DONE]');
        const goodTokens = expectedAnswer({ model, messages }).slice(0, 3).join('');
        expect(contentOf(events), model).toBe(goodTokens);
        expect(saved, model).toMatchObject({ role: 'assistant', content: goodTokens, error: { content: expect.stringMatching(error) } });
        expect(saved.content, model).not.toMatch(/\[object Object\]|12345/);
        expect(saved.content, model).not.toContain(String.fromCharCode(0));
      }
    });

    it(`${format.name}: CR-only and CRLF line endings and a byte-order mark lose nothing`, async () => {
      for (const model of ['poison-cr', 'poison-crlf', 'poison-bom']) {
        const { events, saved } = await streamSaved(format.id(model));
        const answer = expectedText({ model, messages });
        expect(contentOf(events), model).toBe(answer);
        expect(events.some((event) => event.error), model).toBe(false);
        expect(saved, model).toMatchObject({ content: answer, done: true });
        expect(saved.error, model).toBeFalsy();
      }
    });

    it(`${format.name}: a line without end is cut off at the cap, not buffered`, async () => {
      // The fake would send 300 MB in that one line; the answer ends once 1 MiB of it has arrived.
      const { events, saved } = await streamSaved(format.id('poison-huge-line'));
      expect(events.filter((event) => event.error).map((event) => event.error.message)).toEqual(['upstream sent a line longer than 1048576 bytes']);
      expect(saved).toMatchObject({ content: '', error: { content: 'upstream sent a line longer than 1048576 bytes' } });
    });

    it(`${format.name}: a 200 HTML page is a 502 naming the content type, saved as an error, not an empty answer`, async () => {
      const chat = await newChat(app, user);
      const response = await post({ model: format.id('poison-html'), stream: true, chat_id: chat.id, parent_id: null });
      expect(response.status).toBe(502);
      const expected = /^upstream answered HTTP 200 with text\/html instead of (text\/event-stream|application\/x-ndjson)$/;
      expect(await jsonOf<ErrorBody>(response)).toEqual({ detail: expect.stringMatching(expected), code: 'upstream_error' });
      expect(await lastMessage(chat.id)).toMatchObject({ content: '', error: { content: expect.stringMatching(expected) } });
    });
  }

  it('answers a poisoned non-streamed request with a 502, and the Ollama proxy with an error line', async () => {
    const whole = await post({ model: formats[0].id('poison-non-string'), stream: false });
    expect(whole.status).toBe(502);
    expect((await jsonOf<ErrorBody>(whole)).detail).toMatch(/content that is not text/);
    const proxied = await fetch(`${app.url}/ollama/api/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'poison-null', messages }),
    });
    const lines = (await proxied.text()).trim().split('\n').map((line) => JSON.parse(line) as { error?: string });
    expect(lines.at(-1)).toEqual({ error: 'upstream sent a line that is not a JSON object' });
  });

  it('counts the broken streams as mid-stream upstream errors; no guard had to catch an exception', async () => {
    const scrape = await (await fetch(`${app.url}/metrics`)).text();
    const midstream = scrape.split('\n').filter((line) => line.startsWith('parley_upstream_errors_total{') && line.includes('kind="midstream"'));
    // One line per connection, each counting poison-null twice, each mid-stream poison and the endless line.
    expect(midstream).toHaveLength(2);
    for (const line of midstream) expect(Number(line.split(' ').at(-1))).toBeGreaterThanOrEqual(brokenMidstream.length + 2);
    expect(sample(scrape, 'parley_stream_guard_trips_total')).toBeUndefined();
  });
});
