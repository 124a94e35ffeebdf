import type { ChatRequest, ToolCallDelta, UpstreamEvent } from './types.js';
import { contentProblem, errorTextOf, isRecord, malformed, usageOf } from './wire-values.js';

/** The body sent to an OpenAI-compatible `/chat/completions`, always streamed with usage. */
export function openAiRequestBody(request: ChatRequest): string {
  const { extra, ...known } = request;
  return JSON.stringify({
    ...extra,
    ...known,
    stream: true,
    stream_options: { include_usage: true },
  });
}

/**
 * Turns one SSE data payload from an OpenAI-compatible server into events; true when the payload
 * says the answer is complete (`[DONE]` or a finish reason). Anything that is not an OpenAI chunk
 * (not JSON, not an object, non-text content) becomes an error event; nothing here throws.
 */
export function parseOpenAiEvent(data: string, out: UpstreamEvent[]): boolean {
  if (data === '[DONE]') return true;
  let chunk: unknown;
  try {
    chunk = JSON.parse(data);
  } catch {
    malformed(out, 'an event that is not JSON');
    return false;
  }
  if (!isRecord(chunk)) {
    malformed(out, 'an event that is not a JSON object');
    return false;
  }
  if (chunk.error) {
    out.push({ type: 'error', message: 'upstream reported an error', detail: errorTextOf(chunk.error) });
    return false;
  }
  const { choices } = chunk;
  if (choices !== undefined && choices !== null && !Array.isArray(choices)) {
    malformed(out, 'choices that are not a list');
    return false;
  }
  const choice: unknown = choices?.[0];
  if (choice !== undefined && !isRecord(choice)) {
    malformed(out, 'a choice that is not a JSON object');
    return false;
  }
  const delta = choice?.delta;
  const content = isRecord(delta) ? delta.content : undefined;
  const problem = contentProblem(content);
  if (problem) {
    malformed(out, problem);
    return false;
  }
  const toolCalls = isRecord(delta) ? delta.tool_calls : undefined;
  const calls = Array.isArray(toolCalls) ? { toolCalls: toolCalls as ToolCallDelta[] } : {};
  if (typeof content === 'string' && content !== '') out.push({ type: 'delta', content, raw: data, ...calls });
  else if (choice) out.push({ type: 'other', raw: data, ...calls });
  const finishReason = choice?.finish_reason;
  const isFinished = typeof finishReason === 'string' && finishReason !== '';
  // Saved with the answer: a short name, no NUL.
  if (isFinished) out.push({ type: 'finish', reason: finishReason.replaceAll('\u0000', '').slice(0, 64) });
  const usage = chunk.usage;
  if (isRecord(usage)) out.push({ type: 'usage', usage: usageOf(usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) });
  return isFinished;
}
