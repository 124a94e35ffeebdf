import { describe, expect, it } from 'vitest';
import { MODEL_IDS, startFakeLlm } from '../src/index.js';
import { postJson, readAtLeast, sseChunks, useFakeLlm, user } from './helpers.js';

const ctx = useFakeLlm();
const chat = { model: 'fake-model', messages: [user('hello there')] };

/** Timers alive in this process (the fake runs in-process, so its pacing timers count). */
const timers = (): number => process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;

describe('listing and routing', () => {
  it('lists every model on GET /v1/models', async () => {
    const json = await (await fetch(`${ctx.fake.url}/v1/models`)).json();
    expect(json).toEqual({
      object: 'list',
      data: MODEL_IDS.map((id) => ({ id, object: 'model', created: 1700000000, owned_by: 'fake-llm' })),
    });
  });

  it('answers 404 JSON for an unknown route', async () => {
    const res = await fetch(`${ctx.fake.url}/v1/nothing`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { message: expect.stringContaining('/v1/nothing') } });
  });

  it('exposes url and port of a random port', () => {
    expect(ctx.fake.port).toBeGreaterThan(0);
    expect(ctx.fake.url).toBe(`http://127.0.0.1:${ctx.fake.port}`);
  });
});

describe('recorded requests', () => {
  it('records method, path, headers and parsed body', async () => {
    await postJson(`${ctx.fake.url}/v1/chat/completions?x=1`, chat, { 'x-test': 'yes' });
    expect(ctx.fake.requests.at(-1)).toMatchObject({
      method: 'POST',
      path: '/v1/chat/completions',
      headers: { 'x-test': 'yes' },
      body: chat,
    });
  });

  it('keeps only the last 200', async () => {
    ctx.fake.requests.length = 0;
    for (let i = 0; i < 205; i++) await (await fetch(`${ctx.fake.url}/api/version?i=${i}`)).arrayBuffer();
    expect(ctx.fake.requests).toHaveLength(200);
  });
});

describe('apiKey', () => {
  it('requires the bearer key on OpenAI routes only, and can be changed at run time', async () => {
    const fake = await startFakeLlm({ apiKey: 'sekret' });
    try {
      const url = `${fake.url}/v1/chat/completions`;
      const anonymous = await postJson(url, chat);
      expect(anonymous.status).toBe(401);
      expect(await anonymous.json()).toMatchObject({ error: { message: expect.any(String) } });
      expect((await postJson(url, chat, { authorization: 'Bearer wrong' })).status).toBe(401);
      expect((await fetch(`${fake.url}/v1/models`)).status).toBe(401);
      expect((await postJson(url, chat, { authorization: 'Bearer sekret' })).status).toBe(200);
      expect((await postJson(`${fake.url}/api/chat`, { ...chat, stream: false })).status).toBe(200);
      fake.setOptions({ apiKey: undefined });
      expect((await postJson(url, chat)).status).toBe(200);
    } finally {
      await fake.close();
    }
  });
});

describe('pacing', () => {
  it('waits ttftMs before the first token, but sends headers at once', async () => {
    ctx.fake.setOptions({ ttftMs: 300 });
    try {
      const started = performance.now();
      const res = await postJson(`${ctx.fake.url}/v1/chat/completions`, { ...chat, stream: true });
      const headersAt = performance.now() - started;
      await readAtLeast(res, (text) => sseChunks(text).length >= 1);
      const firstTokenAt = performance.now() - started;
      await res.body?.cancel();
      expect(firstTokenAt).toBeGreaterThanOrEqual(290);
      expect(headersAt).toBeLessThan(firstTokenAt);
    } finally {
      ctx.fake.setOptions({ ttftMs: 0 });
    }
  });

  it('waits tokenMs between tokens, streaming or not', async () => {
    ctx.fake.setOptions({ tokenMs: 20, tokens: 10 });
    try {
      let started = performance.now();
      await (await postJson(`${ctx.fake.url}/v1/chat/completions`, { ...chat, stream: true })).text();
      expect(performance.now() - started).toBeGreaterThanOrEqual(9 * 20 * 0.9);
      started = performance.now();
      await (await postJson(`${ctx.fake.url}/api/chat`, { ...chat, stream: false })).json();
      expect(performance.now() - started).toBeGreaterThanOrEqual(9 * 20 * 0.9);
    } finally {
      ctx.fake.setOptions({ tokenMs: 0, tokens: 24 });
    }
  });
});

describe('clean-up', () => {
  it('stops generating and clears its timers when the client disconnects', async () => {
    const fake = await startFakeLlm({ tokenMs: 50, tokens: 1000 });
    try {
      await (await fetch(`${fake.url}/v1/models`)).arrayBuffer(); // warm the connection pool and its timers
      const baseline = timers();
      const controller = new AbortController();
      const res = await postJson(`${fake.url}/v1/chat/completions`, { ...chat, stream: true }, {}, controller.signal);
      await readAtLeast(res, (text) => sseChunks(text).length >= 2);
      expect(timers()).toBeGreaterThan(baseline);
      controller.abort();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(timers()).toBeLessThanOrEqual(baseline);
    } finally {
      await fake.close();
    }
  });

  it('close() ends stalled streams instead of hanging', async () => {
    const fake = await startFakeLlm();
    const res = await postJson(`${fake.url}/v1/chat/completions`, { ...chat, model: 'stall-midstream', stream: true });
    await readAtLeast(res, (text) => sseChunks(text).length >= 3);
    const started = performance.now();
    await fake.close();
    expect(performance.now() - started).toBeLessThan(1000);
    await expect(res.text()).rejects.toThrow();
  });

  it('rejects invalid options', async () => {
    await expect(startFakeLlm({ tokens: -1 })).rejects.toThrow(/tokens/);
    expect(() => ctx.fake.setOptions({ ttftMs: Number.NaN })).toThrow(/ttftMs/);
  });
});
