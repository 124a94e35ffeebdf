import { describe, expect, it } from 'vitest';
import { readChunk, SseParser } from './sse';

const chunk = (content: string) => `data: ${JSON.stringify({ choices: [{ delta: { content }, finish_reason: null }] })}\n\n`;

describe('SseParser', () => {
  it('decodes events split at any byte boundary', () => {
    const stream = `${chunk('Hel')}${chunk('lo')}: keep-alive comment\n\ndata: [DONE]\n\n`;
    for (const size of [1, 2, 3, 7, 13, stream.length]) {
      const parser = new SseParser();
      const events = [];
      for (let at = 0; at < stream.length; at += size) events.push(...parser.push(stream.slice(at, at + size)));
      events.push(...parser.end());
      const text = events.flatMap((e) => (e.type === 'data' ? readChunk(e.data) : [])).map((c) => (c.type === 'delta' ? c.content : '')).join('');
      expect(text, `piece size ${size}`).toBe('Hello');
      expect(events.at(-1)).toEqual({ type: 'done' });
    }
  });

  it('handles CRLF and CR line endings, multi-line data and fields other than data', () => {
    const parser = new SseParser();
    expect(parser.push('event: message\r\nid: 1\r\ndata: a\r\ndata: b\r\n\r\ndata: c\r\r')).toEqual([{ type: 'data', data: 'a\nb', id: '1' }]);
    // The last \r might be half of a \r\n, so that event completes with the next text or the end.
    expect(parser.end()).toEqual([{ type: 'data', data: 'c' }]);
  });

  it('waits for the \\n of a \\r\\n split across pieces', () => {
    const parser = new SseParser();
    expect(parser.push('data: x\r')).toEqual([]);
    expect(parser.push('\n\r\n')).toEqual([{ type: 'data', data: 'x' }]);
  });

  it('marks the events that carry an id and keeps the last id seen, as the SSE spec does', () => {
    // Parley's batches: the id rides on the batch's last event.
    const parser = new SseParser();
    expect(parser.push(`${chunk('a')}${chunk('b').slice(0, -1)}id: 1\n\n${chunk('c')}`)).toEqual([
      { type: 'data', data: JSON.stringify({ choices: [{ delta: { content: 'a' }, finish_reason: null }] }) },
      { type: 'data', data: JSON.stringify({ choices: [{ delta: { content: 'b' }, finish_reason: null }] }), id: '1' },
      { type: 'data', data: JSON.stringify({ choices: [{ delta: { content: 'c' }, finish_reason: null }] }) },
    ]);
    expect(parser.lastEventId).toBe('1');
    // Split anywhere, even inside the id line, it reads the same.
    const split = new SseParser();
    expect([...split.push('data: x\ni'), ...split.push('d: 4'), ...split.push('2\n\ndata: [DONE]\n\n')]).toEqual([
      { type: 'data', data: 'x', id: '42' },
      { type: 'done' },
    ]);
    expect(split.lastEventId).toBe('42');
  });

  it('moves the last id on an event without data, and ignores an id containing NUL', () => {
    const parser = new SseParser();
    expect(parser.push('id: 7\n\n')).toEqual([]);
    expect(parser.lastEventId).toBe('7');
    expect(parser.push('id: 8\0\ndata: x\n\n')).toEqual([{ type: 'data', data: 'x' }]);
    expect(parser.lastEventId).toBe('7');
    expect(parser.push('id\ndata: y\n\n')).toEqual([{ type: 'data', data: 'y', id: '' }]);
    expect(parser.lastEventId).toBe('');
  });

  it('returns an unterminated last event at the end of the stream', () => {
    const parser = new SseParser();
    expect(parser.push('data: {"a":1}')).toEqual([]);
    expect(parser.end()).toEqual([{ type: 'data', data: '{"a":1}' }]);
  });
});

describe('readChunk', () => {
  it('reads content deltas, finish reasons and usage', () => {
    expect(readChunk(JSON.stringify({ choices: [{ delta: { content: 'x' }, finish_reason: null }] }))).toEqual([{ type: 'delta', content: 'x' }]);
    expect(readChunk(JSON.stringify({ choices: [{ delta: {}, finish_reason: 'stop' }] }))).toEqual([{ type: 'finish', reason: 'stop' }]);
    expect(readChunk(JSON.stringify({ choices: [], usage: { completion_tokens: 3 } }))).toEqual([{ type: 'usage', usage: { completion_tokens: 3 } }]);
  });

  it('reads a mid-stream error event', () => {
    expect(readChunk('{"error":{"message":"upstream broke","type":"upstream_error"}}')).toEqual([{ type: 'error', message: 'upstream broke' }]);
  });

  it("reads Parley's takeover event", () => {
    expect(readChunk('{"parley":{"event":"takeover","mode":"regenerate"}}')).toEqual([{ type: 'takeover', mode: 'regenerate' }]);
    expect(readChunk('{"parley":{"event":"takeover","mode":"continue"}}')).toEqual([{ type: 'takeover', mode: 'continue' }]);
    expect(readChunk('{"parley":{"event":"something-new"}}')).toEqual([{ type: 'ignore' }]);
  });

  it('ignores what is not a JSON object', () => {
    expect(readChunk('not json')).toEqual([{ type: 'ignore' }]);
    expect(readChunk('42')).toEqual([{ type: 'ignore' }]);
  });
});
