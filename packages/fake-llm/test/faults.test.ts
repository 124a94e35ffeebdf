import { describe, expect, it } from 'vitest';
import { expectedAnswer, expectedText } from '../src/index.js';
import { ndjsonLines, postJson, readAtLeast, sseChunks, sseData, streamedText, useFakeLlm, user } from './helpers.js';

const ctx = useFakeLlm({ slowHeadersMs: 200 });
const completions = (): string => `${ctx.fake.url}/v1/chat/completions`;
const messages = [user('Fault injection please')];
const openAi = (model: string, stream = true): Record<string, unknown> => ({ model, messages, stream });
const ollama = (model: string, stream = true): Record<string, unknown> => ({ model, messages, stream });
const firstThree = (model: string): string => expectedAnswer({ model, messages }).slice(0, 3).join('');

describe('failing before the stream', () => {
  it.each([true, false])('fail-500 answers 500 with an OpenAI error (stream: %s)', async (stream) => {
    const res = await postJson(completions(), openAi('fail-500', stream));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { message: 'fake upstream failure' } });
  });

  it('fail-429 answers 429 with Retry-After: 1', async () => {
    const res = await postJson(completions(), openAi('fail-429'));
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toEqual({ error: { message: 'rate limited by fake upstream' } });
  });

  it('uses the Ollama error shape on Ollama routes', async () => {
    const res500 = await postJson(`${ctx.fake.url}/api/chat`, ollama('fail-500'));
    expect(res500.status).toBe(500);
    expect(await res500.json()).toEqual({ error: 'fake upstream failure' });
    const res429 = await postJson(`${ctx.fake.url}/api/generate`, { model: 'fail-429', prompt: 'hi' });
    expect(res429.status).toBe(429);
    expect(res429.headers.get('retry-after')).toBe('1');
    expect(await res429.json()).toEqual({ error: 'rate limited by fake upstream' });
  });
});

describe('error-midstream', () => {
  it('streams 3 tokens, then an error event, and ends without [DONE] (OpenAI)', async () => {
    const res = await postJson(completions(), openAi('error-midstream'));
    expect(res.status).toBe(200);
    const text = await res.text();
    const data = sseData(text);
    expect(data).not.toContain('[DONE]');
    const chunks = sseChunks(text);
    expect(chunks).toHaveLength(4);
    expect(streamedText(chunks.slice(0, 3))).toBe(firstThree('error-midstream'));
    expect(chunks[3]).toEqual({ error: { message: 'fake mid-stream failure' } });
  });

  it('streams 3 lines, then an error line (Ollama)', async () => {
    const res = await postJson(`${ctx.fake.url}/api/chat`, ollama('error-midstream'));
    const lines = ndjsonLines<{ message?: { content: string }; error?: string }>(await res.text());
    expect(lines).toHaveLength(4);
    expect(lines.slice(0, 3).map((line) => line.message?.content).join('')).toBe(firstThree('error-midstream'));
    expect(lines[3]).toEqual({ error: 'fake mid-stream failure' });
  });

  it('answers 500 when not streaming', async () => {
    const res = await postJson(completions(), openAi('error-midstream', false));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: { message: 'fake mid-stream failure' } });
  });
});

describe('drop-midstream', () => {
  it('streams 3 tokens, then the connection dies', async () => {
    const res = await postJson(completions(), openAi('drop-midstream'));
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const failure = await (async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return null;
        text += decoder.decode(value, { stream: true });
      }
    })().catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(Error);
    expect(streamedText(sseChunks(text))).toBe(firstThree('drop-midstream'));
  });

  it('answers 500 when not streaming', async () => {
    const res = await postJson(`${ctx.fake.url}/api/chat`, ollama('drop-midstream', false));
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ error: 'fake mid-stream failure' });
  });
});

describe('stall-midstream', () => {
  it('streams 3 tokens, then nothing, until the client gives up', async () => {
    const controller = new AbortController();
    const res = await postJson(completions(), openAi('stall-midstream'), {}, controller.signal);
    const text = await readAtLeast(res, (sofar) => sseChunks(sofar).length >= 3);
    expect(streamedText(sseChunks(text))).toBe(firstThree('stall-midstream'));
    const reader = res.body!.getReader();
    const next = reader.read().then(
      () => 'data',
      () => 'aborted',
    );
    const outcome = await Promise.race([next, new Promise((resolve) => setTimeout(() => resolve('silence'), 300))]);
    expect(outcome).toBe('silence');
    controller.abort();
    expect(await next).toBe('aborted');
  });

  it('never answers when not streaming', async () => {
    const attempt = postJson(completions(), openAi('stall-midstream', false), {}, AbortSignal.timeout(300));
    await expect(attempt).rejects.toThrow();
  });
});

describe('slow-headers', () => {
  it('waits slowHeadersMs before the headers, then answers normally', async () => {
    const started = performance.now();
    const res = await postJson(completions(), openAi('slow-headers'));
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
    expect(res.status).toBe(200);
    expect(streamedText(sseChunks(await res.text()))).toBe(expectedText({ model: 'slow-headers', messages }));
  });
});
