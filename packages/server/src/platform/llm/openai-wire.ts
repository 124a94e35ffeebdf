import type { ChatRequest, ToolCallDelta, UpstreamEvent } from './types.js';

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

interface OpenAiChunk {
  choices?: Array<{ delta?: { content?: string | null; tool_calls?: unknown }; finish_reason?: string | null }>;
  usage?: { prompt_tokens?: number; completion_tokens?: number; total_tokens?: number } | null;
  error?: { message?: string } | string;
}

/** Turns one SSE data payload from an OpenAI-compatible server into events. */
export function parseOpenAiEvent(data: string, out: UpstreamEvent[]): void {
  if (data === '[DONE]') return;
  let chunk: OpenAiChunk;
  try {
    chunk = JSON.parse(data) as OpenAiChunk;
  } catch {
    out.push({ type: 'error', message: 'upstream sent an event that is not JSON' });
    return;
  }
  if (chunk.error) {
    const message = typeof chunk.error === 'string' ? chunk.error : (chunk.error.message ?? 'upstream error');
    out.push({ type: 'error', message });
    return;
  }
  const choice = chunk.choices?.[0];
  const content = choice?.delta?.content;
  const toolCalls = choice?.delta?.tool_calls;
  const calls = Array.isArray(toolCalls) ? { toolCalls: toolCalls as ToolCallDelta[] } : {};
  if (content) out.push({ type: 'delta', content, raw: data, ...calls });
  else if (choice) out.push({ type: 'other', raw: data, ...calls });
  if (choice?.finish_reason) out.push({ type: 'finish', reason: choice.finish_reason });
  if (chunk.usage) {
    const prompt = chunk.usage.prompt_tokens ?? 0;
    const completion = chunk.usage.completion_tokens ?? 0;
    out.push({
      type: 'usage',
      usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: chunk.usage.total_tokens ?? prompt + completion },
    });
  }
}
