import fc from 'fast-check';
import type { Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { startSpan } from '../telemetry/tracing.js';
import { NdjsonDecoder, SseDecoder } from './line-decoders.js';
import { parseOllamaLine } from './ollama-wire.js';
import { parseOpenAiEvent } from './openai-wire.js';
import { mergeToolCalls } from './tool-calls.js';
import type { ToolCall, UpstreamError, UpstreamEvent } from './types.js';
import { UpstreamStreamHandler } from './upstream-stream.js';

/**
 * Property-based tests of everything that reads upstream bytes: the line decoders, the wire parsers and
 * the stream handler, fed valid streams cut at random places with random line endings and byte-order
 * marks, the same streams mutated byte by byte, random JSON values, and random bytes. Whatever comes in:
 * no exception escapes (and the guard never has to catch one), the stream ends exactly once, and what
 * reaches the sink is text without NUL and counts that are counts.
 */

type Format = 'sse' | 'ndjson';
const formats: Format[] = ['sse', 'ndjson'];
// PARLEY_FUZZ_RUNS searches harder (e.g. 5000) when a parser changes.
const runs = { numRuns: Number(process.env.PARLEY_FUZZ_RUNS ?? 250) };
const tick = () => new Promise((resolve) => setImmediate(resolve));

/** What one stream delivered to its sink. */
interface Delivered {
  text: string;
  events: UpstreamEvent[];
  ends: Array<UpstreamError | null>;
  /** Events delivered after the end: must stay empty. */
  late: number;
  guardTrips: unknown[];
}

/** Feeds `chunks` through a handler exactly as undici would, ending normally or with a network error. */
async function feed(format: Format, chunks: Uint8Array[], ending: 'end' | 'error' = 'end', maxBytes?: number): Promise<Delivered> {
  const delivered: Delivered = { text: '', events: [], ends: [], late: 0, guardTrips: [] };
  const handler = new UpstreamStreamHandler(
    format === 'sse' ? new SseDecoder(maxBytes) : new NdjsonDecoder(maxBytes),
    format === 'sse' ? parseOpenAiEvent : parseOllamaLine,
    startSpan('fuzz'),
    { type: format === 'sse' ? 'openai' : 'ollama', baseUrl: 'http://u:secret-pass@host', apiKey: 'sk-fuzz-secret-key' },
    (error) => delivered.guardTrips.push(error),
  );
  const controller = { abort: () => undefined, pause: () => undefined, resume: () => undefined } as unknown as Dispatcher.DispatchController;
  const toolCalls: ToolCall[] = [];
  handler.onRequestStart(controller);
  handler.onResponseStart(controller, 200, { 'content-type': format === 'sse' ? 'text/event-stream' : 'application/x-ndjson' });
  handler.pipe({
    streamId: 'fuzz',
    onBatch(batch) {
      if (delivered.ends.length > 0) delivered.late += batch.length;
      for (const event of batch) {
        delivered.events.push(event);
        if (event.type === 'delta') delivered.text += event.content;
        if ((event.type === 'delta' || event.type === 'other') && event.toolCalls) mergeToolCalls(toolCalls, event.toolCalls);
      }
    },
    onEnd: (error) => void delivered.ends.push(error),
  });
  for (const chunk of chunks) {
    handler.onResponseData(controller, Buffer.from(chunk));
    // Sometimes several network reads land in one tick, sometimes each in its own.
    if (chunk.length % 3 === 0) await tick();
  }
  if (ending === 'end') handler.onResponseEnd();
  else handler.onResponseError(controller, Object.assign(new Error('socket closed'), { code: 'UND_ERR_SOCKET' }));
  await tick();
  await tick();
  return delivered;
}

/** Checks what holds for every stream, however bad its bytes. */
function expectSound(delivered: Delivered): void {
  expect(delivered.guardTrips).toEqual([]);
  expect(delivered.ends).toHaveLength(1);
  expect(delivered.late).toBe(0);
  // An error event ends the answer: nothing follows it.
  const firstError = delivered.events.findIndex((event) => event.type === 'error');
  if (firstError !== -1) {
    expect(firstError).toBe(delivered.events.length - 1);
    expect(delivered.ends[0]).toBeNull();
  }
  for (const event of delivered.events) {
    if (event.type === 'delta') {
      expect(typeof event.content).toBe('string');
      expect(event.content).not.toContain('\u0000');
    }
    if (event.type === 'usage') for (const count of Object.values(event.usage)) expect(Number.isInteger(count) && count >= 0 && count < 2 ** 31).toBe(true);
    if (event.type === 'error') expect(`${event.message} ${event.detail ?? ''}`).not.toMatch(/sk-fuzz-secret-key|secret-pass/);
  }
}

/** Cuts `bytes` at the given places (any order, duplicates allowed). */
function cut(bytes: Uint8Array, places: number[]): Uint8Array[] {
  const points = [...new Set(places.map((place) => place % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const point of points) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  chunks.push(bytes.subarray(start));
  return chunks;
}

// Any text an answer might hold, astral characters and lone surrogates included, but no NUL (refused on purpose).
const answerPiece = fc.string({ unit: 'binary', maxLength: 12 }).map((text) => text.replaceAll('\u0000', ''));
const lineEnding = fc.constantFrom('\n', '\r\n', '\r');

/** A valid stream of `pieces` in the format's wire shape, each line ended by one of `endings` in turn. */
function validStream(format: Format, pieces: string[], endings: string[], hasBom: boolean): Uint8Array {
  let index = 0;
  const eol = () => endings[index++ % endings.length]!;
  let text = hasBom ? '\ufeff' : '';
  if (format === 'sse') {
    for (const piece of pieces) text += `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: piece }, finish_reason: null }] })}${eol()}${eol()}`;
    text += `data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":4}}${eol()}${eol()}`;
    text += `data: [DONE]${eol()}${eol()}`;
  } else {
    for (const piece of pieces) text += `${JSON.stringify({ message: { role: 'assistant', content: piece }, done: false })}${eol()}`;
    text += `{"message":{"role":"assistant","content":""},"done":true,"prompt_eval_count":3,"eval_count":4}${eol()}`;
  }
  return new TextEncoder().encode(text);
}

const validCase = fc.record({
  pieces: fc.array(answerPiece, { maxLength: 20 }),
  // Mixed endings, except a CR ending followed by an LF one: that pair is one CRLF ending, on any reading.
  endings: fc
    .array(lineEnding, { minLength: 1, maxLength: 4 })
    .filter((endings) => endings.every((ending, i) => !(ending === '\r' && endings[(i + 1) % endings.length] === '\n'))),
  hasBom: fc.boolean(),
  places: fc.array(fc.nat(), { maxLength: 12 }),
});

describe.each(formats)('upstream streams (%s) under fuzzing', (format) => {
  it('decode a valid stream exactly, however it is cut, whatever its line endings, with or without a BOM', async () => {
    await fc.assert(
      fc.asyncProperty(validCase, async ({ pieces, endings, hasBom, places }) => {
        const delivered = await feed(format, cut(validStream(format, pieces, endings, hasBom), places));
        expectSound(delivered);
        expect(delivered.text).toBe(pieces.join(''));
        expect(delivered.ends[0]).toBeNull();
        expect(delivered.events.filter((event) => event.type === 'error')).toEqual([]);
      }),
      runs,
    );
  });

  it('survive byte mutations of a valid stream: flips, insertions, deletions, truncation, a network error', async () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 8 }) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), length: fc.integer({ min: 1, max: 16 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
    );
    await fc.assert(
      fc.asyncProperty(validCase, fc.array(mutation, { minLength: 1, maxLength: 6 }), fc.constantFrom('end' as const, 'error' as const), async (stream, mutations, ending) => {
        let bytes = Array.from(validStream(format, stream.pieces, stream.endings, stream.hasBom));
        for (const change of mutations) {
          const at = change.at % (bytes.length + 1);
          if (change.kind === 'set' && at < bytes.length) bytes[at] = change.byte;
          else if (change.kind === 'insert') bytes.splice(at, 0, ...change.bytes);
          else if (change.kind === 'delete') bytes.splice(at, change.length);
          else if (change.kind === 'truncate') bytes = bytes.slice(0, at);
        }
        const delivered = await feed(format, cut(Uint8Array.from(bytes), stream.places), ending);
        expectSound(delivered);
        // A stream that broke off never looks like a finished answer.
        if (ending === 'error') expect(delivered.ends[0] !== null || delivered.events.some((event) => event.type === 'error')).toBe(true);
      }),
      runs,
    );
  });

  it('survive arbitrary JSON values, and chunk-shaped objects holding arbitrary values, as events', async () => {
    const value = fc.jsonValue({ maxDepth: 3 });
    const shaped =
      format === 'sse'
        ? fc.record(
            {
              choices: fc.oneof(value, fc.array(fc.oneof(value, fc.record({ delta: fc.oneof(value, fc.record({ content: value, tool_calls: value }, { requiredKeys: [] })), finish_reason: value }, { requiredKeys: [] })), { maxLength: 2 })),
              usage: fc.oneof(value, fc.record({ prompt_tokens: value, completion_tokens: value, total_tokens: value }, { requiredKeys: [] })),
              error: value,
            },
            { requiredKeys: [] },
          )
        : fc.record(
            { message: fc.oneof(value, fc.record({ content: value }, { requiredKeys: [] })), response: value, done: value, done_reason: value, prompt_eval_count: value, eval_count: value, error: value },
            { requiredKeys: [] },
          );
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(value, shaped), { minLength: 1, maxLength: 8 }), fc.array(fc.nat(), { maxLength: 6 }), async (values, places) => {
        const text = values.map((item) => (format === 'sse' ? `data: ${JSON.stringify(item)}\n\n` : `${JSON.stringify(item)}\n`)).join('');
        expectSound(await feed(format, cut(new TextEncoder().encode(text), places)));
      }),
      runs,
    );
  });

  it('survive random bytes, and lines over a small cap', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 600 }), fc.array(fc.nat(), { maxLength: 8 }), fc.constantFrom(undefined, 64), async (bytes, places, cap) => {
        expectSound(await feed(format, cut(bytes, places), 'end', cap));
      }),
      runs,
    );
  });
});
