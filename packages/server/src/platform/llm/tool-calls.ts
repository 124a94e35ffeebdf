import type { ToolCall, ToolCallDelta } from './types.js';

/** More parallel calls than any model makes; a bound keeps a misbehaving upstream from growing a huge array. */
const MAX_TOOL_CALLS = 128;

/**
 * Folds streamed tool-call fragments into whole calls: the first fragment of an index
 * brings its id and name, later ones append to the arguments text.
 */
export function mergeToolCalls(calls: ToolCall[], deltas: readonly ToolCallDelta[]): void {
  for (const delta of deltas) {
    const index = delta?.index;
    if (!Number.isInteger(index) || index < 0 || index >= MAX_TOOL_CALLS) continue;
    const call = (calls[index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
    if (typeof delta.id === 'string' && delta.id) call.id = delta.id;
    if (typeof delta.function?.name === 'string' && delta.function.name) call.function.name = delta.function.name;
    if (typeof delta.function?.arguments === 'string') call.function.arguments += delta.function.arguments;
  }
}
