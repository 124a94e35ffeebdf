import { expectedText, startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newChat, signUp, type TestUser } from './support/factories.js';
import { contentOf, eventually, parseSse, readSse, readUntilEventIds } from './support/streams.js';
import { startWithUsers } from './support/start-with-users.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import { jsonOf, type Chat, type ChatCompletion, type ErrorBody } from './support/wire.js';

const messages = [{ role: 'user', content: 'Tell me about rivers' }];

describe('chat completions through an OpenAI-compatible upstream', () => {
  let fake: FakeLlm;
  let app: TestApp;
  let user: TestUser;
  let admin: TestUser;

  const post = (body: unknown, token = user.token) =>
    fetch(`${app.url}/api/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  beforeAll(async () => {
    fake = await startFakeLlm({ slowHeadersMs: 3000 });
    ({ app, admin, user } = await startWithUsers({ OPENAI_API_BASE_URLS: `${fake.url}/v1`, AIOHTTP_CLIENT_TIMEOUT: '1', ENABLE_TITLE_GENERATION: 'true' }));
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  it('streams chat.completion.chunk events with the exact text, ending with [DONE]', async () => {
    const response = await post({ model: 'fake-model', messages, stream: true });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events = await readSse(response);
    expect(events.at(-1)).toBe('[DONE]');
    expect(events.slice(0, -1).every((event) => event.object === 'chat.completion.chunk' && event.model === 'fake-model')).toBe(true);
    expect(contentOf(events)).toBe(expectedText({ model: 'fake-model', messages }));
    expect(events.some((event) => event.usage)).toBe(false);
  });

  it('adds the usage chunk only when the client asks for it', async () => {
    const events = await readSse(await post({ model: 'fake-model', messages, stream: true, stream_options: { include_usage: true } }));
    const usage = events.find((event) => event.usage)?.usage;
    expect(usage.completion_tokens).toBe(24);
    expect(usage.total_tokens).toBe(usage.prompt_tokens + 24);
  });

  it('answers non-streamed requests with a chat.completion and usage', async () => {
    const response = await post({ model: 'fake-model', messages, max_tokens: 5 });
    expect(response.status).toBe(200);
    const body = await jsonOf<ChatCompletion>(response);
    expect(body.object).toBe('chat.completion');
    expect(body.choices[0]!.message).toEqual({ role: 'assistant', content: expectedText({ model: 'fake-model', messages, max_tokens: 5 }) });
    expect(body.choices[0]!.finish_reason).toBe('length');
    expect(body.usage?.completion_tokens).toBe(5);
  });

  it('has saved the answer by the time the stream ends, streamed or not', async () => {
    const answer = expectedText({ model: 'fake-model', messages });
    for (const stream of [true, true, true, false, false]) {
      const chat = await newChat(app, user, { title: 'New Chat' });
      const response = await post({ model: 'fake-model', messages, stream, chat_id: chat.id, parent_id: null });
      if (stream) expect((await readSse(response)).at(-1)).toBe('[DONE]');
      else expect((await jsonOf<ChatCompletion>(response)).choices[0]!.message.content).toBe(answer);
      // No waiting: whoever reads the chat once the answer has ended must find it saved.
      const saved = await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token });
      expect(saved.body.chat.messages.at(-1)).toMatchObject({ role: 'assistant', content: answer, done: true });
    }
  });

  it('saves the user message and the answer into a chat, with usage and timings, then titles the chat', async () => {
    const chat = await newChat(app, user, { title: 'New Chat' });
    const events = await readSse(await post({ model: 'fake-model', messages, stream: true, chat_id: chat.id, parent_id: null }));
    const answer = expectedText({ model: 'fake-model', messages });
    expect(contentOf(events)).toBe(answer);
    const saved = await eventually(async () => {
      const got = await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token });
      return got.body.title !== 'New Chat' ? got.body : undefined;
    });
    const path = saved.chat.messages;
    expect(path.map((m) => [m.role, m.content])).toEqual([
      ['user', 'Tell me about rivers'],
      ['assistant', answer],
    ]);
    const savedAnswer = path[1]!;
    expect(savedAnswer.usage?.completion_tokens).toBe(24);
    expect(savedAnswer.info.ttft_ms).toBeGreaterThanOrEqual(0);
    expect(savedAnswer.done).toBe(true);
    expect(saved.title.length).toBeGreaterThan(0);
  });

  it('still titles a chat whose first answer failed, once a retry succeeds', async () => {
    const chat = await newChat(app, user);
    expect((await post({ model: 'fail-500', messages, stream: true, chat_id: chat.id, parent_id: null })).status).toBe(502);
    const failedChat = await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token });
    const failedUser = failedChat.body.chat.messages[0]!;
    await readSse(await post({ model: 'fake-model', messages, stream: true, chat_id: chat.id, parent_id: failedUser.id, regenerate: true }));
    const titled = await eventually(async () => {
      const got = await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token });
      return got.body.title !== 'New Chat' ? got.body.title : undefined;
    });
    expect(titled.length).toBeGreaterThan(0);
  });

  it('finishes and saves the answer when the client disconnects mid-stream', async () => {
    fake.setOptions({ tokenMs: 15 });
    try {
      const chat = await newChat(app, user, { title: 'Keep me' });
      const controller = new AbortController();
      const response = await fetch(`${app.url}/api/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'fake-model', messages, stream: true, chat_id: chat.id, parent_id: null }),
        signal: controller.signal,
      });
      const reader = response.body!.getReader();
      await reader.read();
      controller.abort();
      const answer = expectedText({ model: 'fake-model', messages });
      const saved = await eventually(async () => {
        const got = await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token });
        const last = got.body.chat.messages.at(-1);
        return last?.role === 'assistant' && last.done ? last : undefined;
      });
      expect(saved.content).toBe(answer);
    } finally {
      fake.setOptions({ tokenMs: 0 });
    }
  });

  it('stops a generation on request and keeps the partial answer', async () => {
    fake.setOptions({ tokenMs: 30 });
    try {
      const chat = await newChat(app, user);
      const response = await post({ model: 'fake-model', messages, stream: true, chat_id: chat.id, parent_id: null });
      const id = response.headers.get('x-parley-generation-id');
      expect(id).toBeTruthy();
      const reader = response.body!.getReader();
      await reader.read();
      expect((await app.request('POST', `/api/chat/completions/${id}/stop`, { token: admin.token })).status).toBe(404);
      expect((await app.request('POST', `/api/chat/completions/${id}/stop`, { token: user.token })).status).toBe(200);
      while (!(await reader.read()).done);
      const saved = await eventually(async () => {
        const got = await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token });
        const last = got.body.chat.messages.at(-1);
        return last?.role === 'assistant' && last.done ? last : undefined;
      });
      const full = expectedText({ model: 'fake-model', messages });
      expect(saved.content.length).toBeGreaterThan(0);
      expect(saved.content.length).toBeLessThan(full.length);
      expect(full.startsWith(saved.content)).toBe(true);
      expect(saved.info.stopped).toBe(true);
    } finally {
      fake.setOptions({ tokenMs: 0 });
    }
  });

  it('resumes a saved generation from Last-Event-ID, replaying what was missed and following it live', async () => {
    fake.setOptions({ tokenMs: 25 });
    try {
      const chat = await newChat(app, user);
      const controller = new AbortController();
      const response = await fetch(`${app.url}/api/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'fake-model', messages, stream: true, chat_id: chat.id, parent_id: null }),
        signal: controller.signal,
      });
      const id = response.headers.get('x-parley-generation-id')!;
      const { lastId, textSoFar: before } = await readUntilEventIds(response.body!.getReader(), 3);
      controller.abort();

      const resumed = await fetch(`${app.url}/api/chat/completions/${id}/stream`, {
        headers: { authorization: `Bearer ${user.token}`, 'last-event-id': lastId },
      });
      expect(resumed.status).toBe(200);
      const rest = parseSse(await resumed.text());
      expect(rest.at(-1)?.data).toBe('[DONE]');
      expect(Number(rest.find((event) => event.id)!.id)).toBe(Number(lastId) + 1);
      expect(before + contentOf(rest.map((event) => event.data))).toBe(expectedText({ model: 'fake-model', messages }));

      const replayAll = parseSse(await (await fetch(`${app.url}/api/chat/completions/${id}/stream`, { headers: { authorization: `Bearer ${user.token}` } })).text());
      expect(contentOf(replayAll.map((event) => event.data))).toBe(expectedText({ model: 'fake-model', messages }));
    } finally {
      fake.setOptions({ tokenMs: 0 });
    }
  });

  it('rejects resuming with a malformed Last-Event-ID, an unknown generation, or another user\'s', async () => {
    const chat = await newChat(app, user);
    const response = await post({ model: 'fake-model', messages, stream: true, chat_id: chat.id, parent_id: null });
    const id = response.headers.get('x-parley-generation-id')!;
    await response.text();
    const resume = (token: string, generation: string, lastEventId?: string) =>
      fetch(`${app.url}/api/chat/completions/${generation}/stream`, {
        headers: { authorization: `Bearer ${token}`, ...(lastEventId !== undefined ? { 'last-event-id': lastEventId } : {}) },
      });
    const malformed = await resume(user.token, id, 'abc');
    expect(malformed.status).toBe(400);
    expect((await jsonOf<ErrorBody>(malformed)).detail).toMatch(/last-event-id/i);
    expect((await resume(user.token, id, '-1')).status).toBe(400);
    expect((await resume(user.token, '00000000-0000-4000-8000-000000000000')).status).toBe(404);
    expect((await resume(admin.token, id)).status).toBe(404);
    expect((await app.request('POST', `/api/chat/completions/${id}/stop`, { token: admin.token })).status).toBe(404);
  });

  it('maps upstream failures: 500 to 502, 429 passed through, slow headers to 504', async () => {
    const failed = await post({ model: 'fail-500', messages, stream: true });
    expect(failed.status).toBe(502);
    // Users get Parley's words and a reference to the log; admins also the upstream's own words.
    expect((await jsonOf<ErrorBody>(failed)).detail).toMatch(/^Upstream error \(ref [0-9a-f]{12}\): upstream answered HTTP 500$/);
    expect((await jsonOf<ErrorBody>(await post({ model: 'fail-500', messages, stream: true }, admin.token))).detail).toMatch(
      /^upstream answered HTTP 500: fake upstream failure \(ref [0-9a-f]{12}\)$/,
    );
    const limited = await post({ model: 'fail-429', messages });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toBe('1');
    expect((await jsonOf<ErrorBody>(limited)).detail).toMatch(/^Upstream error \(ref [0-9a-f]{12}\): upstream answered HTTP 429$/);
    expect((await jsonOf<ErrorBody>(await post({ model: 'fail-429', messages }, admin.token))).detail).toMatch(/rate limited/);
    const slow = await post({ model: 'slow-headers', messages, stream: true });
    expect(slow.status).toBe(504);
  });

  it('reports mid-stream failures as an error event and saves the partial answer as an error', async () => {
    for (const model of ['error-midstream', 'drop-midstream', 'stall-midstream']) {
      const chat = await newChat(app, user);
      const events = await readSse(await post({ model, messages, stream: true, chat_id: chat.id, parent_id: null }));
      expect(events.some((event) => event.error?.message), model).toBe(true);
      expect(events.at(-1)).toBe('[DONE]');
      const saved = await eventually(async () => {
        const got = await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: user.token });
        const last = got.body.chat.messages.at(-1);
        return last?.role === 'assistant' && last.error ? last : undefined;
      });
      expect(saved.content).toBe(contentOf(events));
    }
  });

  it('rejects bad input with 4xx JSON and stores nothing', async () => {
    const chat = await newChat(app, admin, { title: 'Admin chat' });
    const before = await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: admin.token });
    const cases: Array<[unknown, number]> = [
      [{ model: 'fake-model' }, 400],
      [{ model: 'fake-model', messages: 'hello' }, 400],
      [{ model: 'fake-model', messages: [{ role: 'wizard', content: 'x' }] }, 400],
      [{ model: 'no-such-model', messages }, 404],
      [{ model: 'fake-model', messages, stream: true, chat_id: chat.id, parent_id: null }, 404],
      [{ model: 'fake-model', messages, temperature: 'hot' }, 400],
    ];
    for (const [body, status] of cases) {
      const response = await post(body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(typeof (await jsonOf<ErrorBody>(response)).detail).toBe('string');
    }
    const malformed = await fetch(`${app.url}/api/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: '{"model": "fake-model", "messages": [',
    });
    expect(malformed.status).toBe(400);
    const after = await app.request<Chat>('GET', `/api/v1/chats/${chat.id}`, { token: admin.token });
    expect(after.body).toEqual(before.body);
  });

  it('refuses pending users and anonymous callers', async () => {
    const pending = await signUp(app);
    expect((await post({ model: 'fake-model', messages }, pending.token)).status).toBe(403);
    expect((await fetch(`${app.url}/api/chat/completions`, { method: 'POST' })).status).toBe(401);
  });

  it('works with the official openai SDK', async () => {
    const { default: OpenAI } = await import('openai');
    const client = new OpenAI({ baseURL: `${app.url}/api`, apiKey: user.token });
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain('fake-model');
    const stream = await client.chat.completions.create({ model: 'fake-model', messages: [{ role: 'user', content: 'sdk' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe(expectedText({ model: 'fake-model', messages: [{ role: 'user', content: 'sdk' }] }));
  });

  it('passes tool calls through, streamed and whole, and answers the tool result (openai SDK)', async () => {
    const { default: OpenAI } = await import('openai');
    const client = new OpenAI({ baseURL: `${app.url}/api`, apiKey: user.token });
    const tools = [{ type: 'function' as const, function: { name: 'weather', parameters: { type: 'object', properties: { query: { type: 'string' } } } } }];
    const question = { role: 'user' as const, content: 'Weather in Lyon?' };
    const expectedArguments = JSON.stringify({ query: 'Weather in Lyon?' });

    const whole = await client.chat.completions.create({ model: 'fake-model', messages: [question], tools });
    const call = whole.choices[0]?.message.tool_calls?.[0];
    expect(whole.choices[0]?.finish_reason).toBe('tool_calls');
    expect(whole.choices[0]?.message.content).toBeNull();
    expect(call).toMatchObject({ type: 'function', function: { name: 'weather', arguments: expectedArguments } });
    expect(call?.id).toMatch(/^call_/);

    const stream = await client.chat.completions.create({ model: 'fake-model', messages: [question], tools, stream: true });
    let streamedArguments = '';
    for await (const chunk of stream) {
      for (const fragment of chunk.choices[0]?.delta?.tool_calls ?? []) streamedArguments += fragment.function?.arguments ?? '';
    }
    expect(streamedArguments).toBe(expectedArguments);

    const messages = [question, whole.choices[0]!.message, { role: 'tool' as const, tool_call_id: call!.id, content: '12 degrees' }];
    const answer = await client.chat.completions.create({ model: 'fake-model', messages, tools });
    expect(answer.choices[0]?.message.content).toBe(expectedText({ model: 'fake-model', messages: messages as never }));
    expect(answer.choices[0]?.message.tool_calls).toBeUndefined();
  });
});

describe('chat completions through an Ollama upstream, and the Ollama-compatible proxy', () => {
  let fake: FakeLlm;
  let app: TestApp;
  let user: TestUser;

  beforeAll(async () => {
    fake = await startFakeLlm();
    app = await startTestApp({ OLLAMA_BASE_URLS: fake.url });
    user = await signUp(app);
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  it('translates OpenAI requests to Ollama and the answer back', async () => {
    const response = await fetch(`${app.url}/api/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-model', messages, stream: true, max_tokens: 7, stream_options: { include_usage: true } }),
    });
    const events = await readSse(response);
    expect(contentOf(events)).toBe(expectedText({ model: 'fake-model', messages, max_tokens: 7 }));
    expect(events.find((event) => event.choices?.[0]?.finish_reason)?.choices[0].finish_reason).toBe('length');
    expect(events.find((event) => event.usage)?.usage.completion_tokens).toBe(7);
    expect(fake.requests.at(-1)?.path).toBe('/api/chat');
    expect((fake.requests.at(-1)?.body as { options: { num_predict: number } }).options.num_predict).toBe(7);
  });

  it('serves Ollama clients on /ollama: tags, chat and generate, streamed and not', async () => {
    const { Ollama } = await import('ollama');
    const client = new Ollama({ host: `${app.url}/ollama`, headers: { Authorization: `Bearer ${user.token}` } });
    const tags = await client.list();
    expect(tags.models.map((m) => m.name)).toContain('fake-model');
    let text = '';
    for await (const part of await client.chat({ model: 'fake-model', messages, stream: true })) text += part.message.content;
    expect(text).toBe(expectedText({ model: 'fake-model', messages }));
    const whole = await client.chat({ model: 'fake-model', messages, stream: false });
    expect(whole.message.content).toBe(text);
    expect(whole.eval_count).toBe(24);
    const generated = await client.generate({ model: 'fake-model', prompt: 'Tell me about rivers', stream: false });
    expect(generated.response).toBe(text);
  });

  it('requires authentication on the Ollama proxy', async () => {
    expect((await fetch(`${app.url}/ollama/api/tags`)).status).toBe(401);
    const bad = await fetch(`${app.url}/ollama/api/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-model' }),
    });
    expect(bad.status).toBe(400);
  });
});
