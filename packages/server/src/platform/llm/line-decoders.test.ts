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
