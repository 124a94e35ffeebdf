import { describe, expect, it } from 'vitest';
import { takeoverModeOf } from '../connections/connections.service.js';
import type { LogEntry } from './generation-log.js';
import { partialAnswer } from './takeover.js';

const delta = (seq: number, content: string): { entry: LogEntry } => ({ entry: { seq, kind: 'events', events: [{ type: 'delta', content }] } });

describe('partialAnswer', () => {
  it('joins the deltas and keeps the last batch number', () => {
    expect(partialAnswer([delta(1, 'One'), delta(2, ' two')])).toEqual({ content: 'One two', lastSeq: 2 });
  });

  it('starts afresh at a regenerating takeover, not at a continuing one', () => {
    const entries = [delta(1, 'One'), { entry: { seq: 1, kind: 'takeover', mode: 'regenerate' } as LogEntry }, delta(2, 'Fresh'), { entry: { seq: 2, kind: 'takeover', mode: 'continue' } as LogEntry }, delta(3, ' answer')];
    expect(partialAnswer(entries)).toEqual({ content: 'Fresh answer', lastSeq: 3 });
  });
});

describe('takeoverModeOf', () => {
  it('continues only where the upstream is known to, unless the connection says otherwise', () => {
    expect(takeoverModeOf({ type: 'ollama', takeover_mode: 'auto' })).toBe('continue');
    expect(takeoverModeOf({ type: 'openai', takeover_mode: 'auto' })).toBe('regenerate');
    expect(takeoverModeOf({ type: 'openai', takeover_mode: 'continue' })).toBe('continue');
    expect(takeoverModeOf({ type: 'ollama', takeover_mode: 'regenerate' })).toBe('regenerate');
  });
});
