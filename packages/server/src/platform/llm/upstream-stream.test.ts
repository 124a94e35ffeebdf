import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { startSpan } from '../telemetry/tracing.js';
import { NdjsonDecoder, SseDecoder } from './line-decoders.js';
import { parseOllamaLine } from './ollama-wire.js';
import { parseOpenAiEvent } from './openai-wire.js';
import type { GuardedPlace } from './stream-guard.js';
import type { UpstreamError, UpstreamEvent } from './types.js';
import { UpstreamStreamHandler, type UpstreamSink, type WireParser } from './upstream-stream.js';

const target = { type: 'openai' as const, baseUrl: 'http://svc:pw-in-url-123@llm.internal/v1', apiKey: 'custom-key-7f3a9' };
const tick = () => new Promise((resolve) => setImmediate(resolve));
const sseHeaders = { 'content-type': 'text/event-stream; charset=utf-8' };

/** A handler driven by hand, as undici would: a controller that records aborts, and the reports of its guard. */
function harness(options: { format?: 'sse' | 'ndjson'; maxBytes?: number; parse?: WireParser } = {}) {
  const format = options.format ?? 'sse';
  const reports: Array<{ error: unknown; where: GuardedPlace; id: string | undefined }> = [];
  const handler = new UpstreamStreamHandler(
    format === 'sse' ? new SseDecoder(options.maxBytes) : new NdjsonDecoder(options.maxBytes),
    options.parse ?? (format === 'sse' ? parseOpenAiEvent : parseOllamaLine),
    startSpan('test'),
    target,
    (error, where, id) => reports.push({ error, where, id }),
  );
  const aborts: unknown[] = [];
  const controller = { abort: (reason: unknown) => aborts.push(reason), pause: () => undefined, resume: () => undefined } as unknown as Dispatcher.DispatchController;
  handler.onRequestStart(controller);
  const data = (text: string) => handler.onResponseData(controller, Buffer.from(text));
  return { handler, controller, reports, aborts, data };
}

/** A sink that records what it got; `throwOn` makes one of its callbacks throw. */
function recorder(throwOn?: 'batch' | 'end') {
  const batches: UpstreamEvent[][] = [];
  const ends: Array<UpstreamError | null> = [];
  const sink: UpstreamSink = {
    streamId: 'gen-1',
    onBatch(batch) {
      batches.push(batch);
      if (throwOn === 'batch') throw new TypeError('sink bug');
    },
    onEnd(error) {
      ends.push(error);
      if (throwOn === 'end') throw new TypeError('sink end bug');
    },
  };
  return { sink, batches, ends };
}

const chunk = (content: string) => `data: {"choices":[{"delta":{"content":"${content}"},"finish_reason":null}]}\n\n`;

describe('the guard around every stream callback', () => {
  it('ends the stream once when the sink throws, reports it with the stream id, and cuts the request off', async () => {
    const { handler, controller, reports, aborts, data } = harness();
    handler.onResponseStart(controller, 200, sseHeaders);
    const { sink, batches, ends } = recorder('batch');
    handler.pipe(sink);
    data(chunk('a'));
    await tick();
    data(chunk('b'));
    handler.onResponseError(controller, new Error('aborted'));
    await tick();
    expect(batches).toHaveLength(1);
    expect(ends).toHaveLength(1);
    expect(ends[0]?.message).toMatch(/internal error/);
    expect(reports).toEqual([{ error: expect.any(TypeError), where: 'sink', id: 'gen-1' }]);
    expect(aborts).toHaveLength(1);
  });

  it('ends the stream when a parser throws, and when the sink throws at the end nothing escapes', async () => {
    const throwing: WireParser = () => {
      throw new RangeError('parser bug');
    };
    const { handler, controller, reports, data } = harness({ parse: throwing });
    handler.onResponseStart(controller, 200, sseHeaders);
    const { sink, ends } = recorder('end');
    handler.pipe(sink);
    data(chunk('a'));
    await tick();
    expect(ends).toHaveLength(1);
    expect(ends[0]?.kind).toBe('protocol');
    expect(reports.map((report) => report.where)).toEqual(['parser', 'sink']);
  });

  it('survives an undici callback that fails before the stream opened: the caller’s await gets the error', async () => {
    const { handler, controller, reports } = harness();
    const headers = {};
    Object.defineProperty(headers, 'content-type', {
      get() {
        throw new Error('header bug');
      },
    });
    handler.onResponseStart(controller, 200, headers);
    await expect(handler.opened).rejects.toMatchObject({ kind: 'protocol', message: expect.stringMatching(/internal error/) });
    expect(reports).toEqual([{ error: expect.any(Error), where: 'upstream', id: undefined }]);
  });
});

describe('what the handler refuses', () => {
  it('rejects a 2xx answer that is not a stream (an HTML page) before any byte is relayed', async () => {
    const { handler, controller, aborts } = harness();
    handler.onResponseStart(controller, 200, { 'content-type': 'text/html; charset=utf-8' });
    await expect(handler.opened).rejects.toMatchObject({ kind: 'protocol', message: 'upstream answered HTTP 200 with text/html instead of text/event-stream' });
    expect(aborts).toHaveLength(1);
    const ollama = harness({ format: 'ndjson' });
    ollama.handler.onResponseStart(ollama.controller, 200, { 'content-type': 'text/html' });
    await expect(ollama.handler.opened).rejects.toMatchObject({ message: expect.stringMatching(/instead of application\/x-ndjson/) });
  });

  it('accepts a stream without a content type, and the NDJSON types Ollama-compatible servers use', async () => {
    const bare = harness();
    bare.handler.onResponseStart(bare.controller, 200, {});
    await expect(bare.handler.opened).resolves.toBe(bare.handler);
    for (const type of ['application/x-ndjson', 'application/json; charset=utf-8']) {
      const ollama = harness({ format: 'ndjson' });
      ollama.handler.onResponseStart(ollama.controller, 200, { 'content-type': type });
      await expect(ollama.handler.opened).resolves.toBe(ollama.handler);
    }
  });

  it('ends a body cut before the answer was complete with an error, and a complete one without', async () => {
    for (const [body, expected] of [
      [chunk('a'), /before the answer was complete/],
      [chunk('a') + 'data: [DONE]\n\n', null],
      [chunk('a') + 'data: {"choices":[{"delta":{},"finish_reason":"stop"}]}\n\n', null],
    ] as const) {
      const { handler, controller, data } = harness();
      handler.onResponseStart(controller, 200, sseHeaders);
      const { sink, ends } = recorder();
      handler.pipe(sink);
      data(body);
      handler.onResponseEnd();
      await tick();
      expect(ends).toHaveLength(1);
      if (expected) expect(ends[0]?.message).toMatch(expected);
      else expect(ends[0]).toBeNull();
    }
  });

  it('stops at a line over the cap: one error end, the request cut off, later bytes dropped', async () => {
    const { handler, controller, aborts, data } = harness({ maxBytes: 1024 });
    handler.onResponseStart(controller, 200, sseHeaders);
    const { sink, batches, ends } = recorder();
    handler.pipe(sink);
    data(chunk('ok'));
    data(`data: ${'x'.repeat(2000)}`);
    await tick();
    data(chunk('late'));
    handler.onResponseError(controller, new Error('aborted'));
    await tick();
    expect(batches.flat().filter((event) => event.type === 'delta')).toHaveLength(1);
    expect(ends).toHaveLength(1);
    expect(ends[0]?.message).toBe('upstream sent a line longer than 1024 bytes');
    expect(aborts).toHaveLength(1);
  });
});

describe('what upstreams say when they fail', () => {
  it('keeps a refusal’s words apart from the message, with keys and URL credentials redacted', async () => {
    const { handler, controller } = harness();
    handler.onResponseStart(controller, 401, { 'content-type': 'application/json' });
    handler.onResponseData(controller, Buffer.from(JSON.stringify({ error: { message: `Invalid key custom-key-7f3a9 (Authorization: Bearer custom-key-7f3a9) via http://svc:pw-in-url-123@llm.internal` } })));
    handler.onResponseEnd();
    const error = (await handler.opened.catch((caught: unknown) => caught)) as UpstreamError;
    expect(error.message).toBe('upstream answered HTTP 401');
    expect(error.detail).toMatch(/^Invalid key \[redacted\] \(Authorization: \[redacted\]/);
    expect(`${error.detail}`).not.toMatch(/custom-key-7f3a9|pw-in-url-123/);
  });

  it('does not wait for the end of an endless error body: its first 2000 characters say enough', async () => {
    const { handler, controller, aborts } = harness();
    handler.onResponseStart(controller, 500, { 'content-type': 'text/html' });
    for (let i = 0; i < 3; i++) handler.onResponseData(controller, Buffer.from('<p>error page</p>'.repeat(100)));
    const error = (await handler.opened.catch((caught: unknown) => caught)) as UpstreamError;
    expect(error).toMatchObject({ kind: 'status', status: 500, message: 'upstream answered HTTP 500' });
    expect(error.detail?.length).toBeLessThanOrEqual(2001);
    expect(aborts).toHaveLength(1);
    handler.onResponseError(controller, new Error('aborted'));
  });

  it('redacts an in-stream error’s words before the sink sees them', async () => {
    const { handler, controller, data } = harness({ format: 'ndjson' });
    handler.onResponseStart(controller, 200, { 'content-type': 'application/x-ndjson' });
    const { sink, batches } = recorder();
    handler.pipe(sink);
    data('{"error":"bad key custom-key-7f3a9 for svc:pw-in-url-123"}\n');
    await tick();
    expect(batches[0]).toEqual([{ type: 'error', message: 'upstream reported an error', detail: 'bad key [redacted] for svc:[redacted]' }]);
  });
});
