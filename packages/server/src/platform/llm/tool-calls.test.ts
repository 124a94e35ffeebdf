import { describe, expect, it } from 'vitest';
import { mergeToolCalls } from './tool-calls.js';
import type { ToolCall, ToolCallDelta } from './types.js';

describe('mergeToolCalls', () => {
  it('joins fragments by index into whole calls, parallel calls included', () => {
    const calls: ToolCall[] = [];
    mergeToolCalls(calls, [{ index: 0, id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"ci' } }]);
    mergeToolCalls(calls, [{ index: 1, id: 'call_b', function: { name: 'time', arguments: '' } }, { index: 0, function: { arguments: 'ty":"Lyon"}' } }]);
    mergeToolCalls(calls, [{ index: 1, function: { arguments: '{}' } }]);
    expect(calls).toEqual([
      { id: 'call_a', type: 'function', function: { name: 'weather', arguments: '{"city":"Lyon"}' } },
      { id: 'call_b', type: 'function', function: { name: 'time', arguments: '{}' } },
    ]);
  });

  it('ignores fragments a misbehaving upstream sends with impossible indexes', () => {
    const calls: ToolCall[] = [];
    const bad = [{ index: -1 }, { index: 1.5 }, { index: 1e9 }, { index: '0' }, null] as unknown as ToolCallDelta[];
    mergeToolCalls(calls, bad);
    expect(calls).toEqual([]);
  });
});
