import { describe, expect, it } from 'vitest';
import { NdjsonDecoder, SseDecoder } from './line-decoders.js';

const bytes = (text: string) => new TextEncoder().encode(text);

describe('SseDecoder', () => {
  it('returns complete events only, across arbitrary chunk boundaries', () => {
    const stream = 'data: {"a":1}\n\ndata: {"b":2}\r\n\r\n: comment\nevent: x\ndata: [DONE]\n\n';
    for (let cut = 1; cut < stream.length; cut++) {
      const decoder = new SseDecoder();
      const events = [...decoder.push(bytes(stream.slice(0, cut))), ...decoder.push(bytes(stream.slice(cut))), ...decoder.end()];
      expect(events, `cut at ${cut}`).toEqual(['{"a":1}', '{"b":2}', '[DONE]']);
    }
  });

  it('joins multi-line data and keeps multi-byte characters split between chunks', () => {
    const decoder = new SseDecoder();
    const encoded = bytes('data: héllo\ndata: wörld\n\n');
    const events = [...decoder.push(encoded.slice(0, 8)), ...decoder.push(encoded.slice(8))];
    expect(events).toEqual(['héllo\nwörld']);
  });

  it('decodes multi-byte text cut at every byte, into two or three chunks', () => {
    const encoded = bytes('data: 👋 é€\n\ndata: ü\n\n');
    for (let first = 1; first < encoded.length; first++) {
      for (const second of [first, Math.min(first + 2, encoded.length)]) {
        const decoder = new SseDecoder();
        const events = [
          ...decoder.push(encoded.slice(0, first)),
          ...decoder.push(encoded.slice(first, second)),
          ...decoder.push(encoded.slice(second)),
          ...decoder.end(),
        ];
        expect(events, `cuts at ${first}, ${second}`).toEqual(['👋 é€', 'ü']);
      }
    }
  });

  it('flushes an unterminated last event at the end', () => {
    const decoder = new SseDecoder();
    expect(decoder.push(bytes('data: {"x":1}'))).toEqual([]);
    expect(decoder.end()).toEqual(['{"x":1}']);
  });
});

describe('NdjsonDecoder', () => {
  it('splits lines across chunks and skips blank ones', () => {
    const decoder = new NdjsonDecoder();
    expect(decoder.push(bytes('{"a":1}\n{"b"'))).toEqual(['{"a":1}']);
    expect(decoder.push(bytes(':2}\n\n{"c":3}'))).toEqual(['{"b":2}']);
    expect(decoder.end()).toEqual(['{"c":3}']);
  });

  it('keeps a character split between chunks, and one left incomplete at the end', () => {
    const encoded = bytes('{"t":"ß"}\n{"u":"€"}');
    for (let cut = 1; cut < encoded.length; cut++) {
      const decoder = new NdjsonDecoder();
      const lines = [...decoder.push(encoded.slice(0, cut)), ...decoder.push(encoded.slice(cut)), ...decoder.end()];
      expect(lines, `cut at ${cut}`).toEqual(['{"t":"ß"}', '{"u":"€"}']);
    }
    const decoder = new NdjsonDecoder();
    expect([...decoder.push(bytes('x').subarray(0, 1)), ...decoder.push(new Uint8Array([0xe2, 0x82])), ...decoder.end()]).toEqual(['x\ufffd']);
  });
});

/** Every item `decoder` returns for `text` cut into the given chunks, then the end. */
function decodeAll(decoder: SseDecoder | NdjsonDecoder, chunks: Uint8Array[]): string[] {
  return [...chunks.flatMap((chunk) => decoder.push(chunk)), ...decoder.end()];
}

describe('line endings and byte-order marks', () => {
  const sse = 'data: {"a":1}\n\ndata: {"b":2}\n\n';
  const ndjson = '{"a":1}\n{"b":2}\n';

  it('ends lines at LF, CRLF and CR alike, however the chunks fall (a CRLF split between chunks is one ending)', () => {
    for (const ending of ['\n', '\r\n', '\r']) {
      for (const [make, text, expected] of [
        [() => new SseDecoder(), sse, ['{"a":1}', '{"b":2}']],
        [() => new NdjsonDecoder(), ndjson, ['{"a":1}', '{"b":2}']],
      ] as const) {
        const encoded = bytes(text.replaceAll('\n', ending));
        for (let cut = 0; cut <= encoded.length; cut++) {
          const items = decodeAll(make(), [encoded.slice(0, cut), encoded.slice(cut)]);
          expect(items, `${JSON.stringify(ending)} cut at ${cut}`).toEqual(expected);
        }
      }
    }
  });

  it('drops a leading byte-order mark, even one split between chunks, and only at the start', () => {
    const encoded = bytes(`\ufeff${sse}`);
    for (let cut = 0; cut <= 4; cut++) expect(decodeAll(new SseDecoder(), [encoded.slice(0, cut), encoded.slice(cut)])).toEqual(['{"a":1}', '{"b":2}']);
    expect(decodeAll(new NdjsonDecoder(), [bytes(`\ufeff${ndjson}`)])).toEqual(['{"a":1}', '{"b":2}']);
    // Later, it is an ordinary character: a line starting with one is no `data:` line.
    expect(decodeAll(new SseDecoder(), [bytes('data: {"a":1}\n\n\ufeffdata: {"b":2}\n\n')])).toEqual(['{"a":1}']);
  });

  it('does not dispatch an SSE event whose data is empty', () => {
    expect(decodeAll(new SseDecoder(), [bytes('data:\n\ndata: \n\n: keep-alive\n\ndata: x\n\n')])).toEqual(['x']);
  });
});

describe('the line cap', () => {
  const chunkOf = (size: number, byte = 0x61) => new Uint8Array(size).fill(byte);

  it('stops at a line over the cap, keeping the items before it, and returns nothing after', () => {
    const decoder = new NdjsonDecoder(1024);
    expect(decoder.push(bytes('{"ok":1}\n'))).toEqual(['{"ok":1}']);
    expect(decoder.failure).toBeNull();
    expect(decoder.push(chunkOf(1000))).toEqual([]);
    expect(decoder.push(chunkOf(100))).toEqual([]);
    expect(decoder.failure).toMatch(/line longer than 1024 bytes/);
    expect(decoder.push(bytes('\n{"late":1}\n'))).toEqual([]);
    expect(decoder.end()).toEqual([]);
  });

  it('accepts a line of exactly the cap, across chunks, and one inside a single chunk', () => {
    const line = `"${'x'.repeat(1022)}"`;
    const decoder = new NdjsonDecoder(1024);
    expect(decodeAll(decoder, [bytes(line.slice(0, 10)), bytes(`${line.slice(10)}\n`)])).toEqual([line]);
    expect(decoder.failure).toBeNull();
    const single = new NdjsonDecoder(1024);
    expect(single.push(bytes(`${line}x\n`))).toEqual([]);
    expect(single.failure).toMatch(/longer than 1024/);
  });

  it('caps an SSE event made of many short data lines', () => {
    const decoder = new SseDecoder(1024);
    const lines = 'data: 0123456789\n'.repeat(200);
    expect(decoder.push(bytes(`data: {"a":1}\n\n${lines}\n`))).toEqual(['{"a":1}']);
    expect(decoder.failure).toMatch(/event longer than 1024 bytes/);
  });

  it('gives up on 300 MB without a newline after about the cap, holding at most the cap', () => {
    // What a broken upstream sent: one line that never ends. Fed 64 KiB at a time, as a socket delivers it.
    const decoder = new SseDecoder();
    const chunk = chunkOf(64 * 1024);
    let fed = 0;
    while (decoder.failure === null && fed < 300 * 1024 * 1024) {
      decoder.push(chunk);
      fed += chunk.length;
    }
    expect(decoder.failure).toMatch(/longer than 1048576 bytes/);
    expect(fed).toBeLessThanOrEqual(1024 * 1024 + chunk.length);
  });

  it('reads a long line in small chunks in linear time (each byte is scanned once)', () => {
    // 16 MiB in 1 KiB chunks under a 32 MiB cap: rescanning what is held on every read would take minutes.
    const decoder = new NdjsonDecoder(32 * 1024 * 1024);
    const chunk = chunkOf(1024);
    const started = performance.now();
    let items = 0;
    for (let i = 0; i < 16 * 1024; i++) items += decoder.push(chunk).length;
    expect(items).toBe(0);
    expect(decoder.push(bytes('\n'))[0]).toHaveLength(16 * 1024 * 1024);
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
