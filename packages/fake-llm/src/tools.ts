import { contentText, idFromSeed, type ChatMessage } from './determinism.js';
import { isRecord } from './http.js';

/** A function call the fake decides to make, as OpenAI's `tool_calls[]` entry carries it. */
export interface ToolCall {
  id: string;
  name: string;
  /** JSON text of the arguments. */
  arguments: string;
}

/** How many streamed pieces the arguments are split into, as real servers stream them in fragments. */
export const TOOL_ARGUMENT_PIECES = 3;

/**
 * The call the fake makes: when the request offers function tools (and tool_choice is not
 * "none") and the conversation ends with a user message, it calls the first tool (or the one
 * tool_choice names) with `{"query": <that message's text>}`. After a tool result it answers
 * in text, so a whole tool round trip can be tested.
 */
export function planToolCall(body: Record<string, unknown>, messages: readonly ChatMessage[], seed: number): ToolCall | null {
  if (!Array.isArray(body.tools) || body.tool_choice === 'none') return null;
  const names = body.tools.flatMap((tool: unknown) =>
    isRecord(tool) && tool.type === 'function' && isRecord(tool.function) && typeof tool.function.name === 'string' ? [tool.function.name] : [],
  );
  const chosen = isRecord(body.tool_choice) && isRecord(body.tool_choice.function) ? body.tool_choice.function.name : undefined;
  const name = typeof chosen === 'string' && names.includes(chosen) ? chosen : names[0];
  const last = messages.at(-1);
  if (name === undefined || last?.role !== 'user') return null;
  return { id: `call_${idFromSeed(seed).slice(0, 12)}`, name, arguments: JSON.stringify({ query: contentText(last.content) }) };
}

/** The arguments in TOOL_ARGUMENT_PIECES streamed fragments (the last takes the rest). */
export function argumentPieces(call: ToolCall): string[] {
  const size = Math.ceil(call.arguments.length / TOOL_ARGUMENT_PIECES);
  return Array.from({ length: TOOL_ARGUMENT_PIECES }, (_, i) => call.arguments.slice(i * size, (i + 1) * size));
}
