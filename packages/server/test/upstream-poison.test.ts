import { expectedText, startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newChat, type TestUser } from './support/factories.js';
import { contentOf, parseSse, type SseData } from './support/streams.js';
import { startWithUsers } from './support/start-with-users.js';
import type { TestApp } from './support/test-app.js';
import type { Chat } from './support/wire.js';

const messages = [{ role: 'user', content: 'Tell me about rivers' }];
// Both connections serve every model: Ollama's ids are plain, the OpenAI connection's get `@OpenAI 1`.
const formats = [
  { name: 'OpenAI', id: (model: string) => `${model}@OpenAI 1` },
  { name: 'Ollama', id: (model: string) => model },
] as const;

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

  /** Streams one saved answer; returns its events and the assistant message as saved. */
  async function streamSaved(model: string): Promise<{ events: SseData[]; saved: Record<string, unknown> & { content: string } }> {
    const chat = await newChat(app, user);
    const response = await fetch(`${app.url}/api/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages, stream: true, chat_id: chat.id, parent_id: null }),
    });
    expect(response.status, model).toBe(200);
    const events = parseSse(await response.text()).map((event) => event.data);
    // The end of the stream is sent only once the answer is saved.
    const got = await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token });
    const saved = got.body.chat.messages.at(-1) as unknown as Record<string, unknown> & { content: string };
    return { events, saved };
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
  }
});
