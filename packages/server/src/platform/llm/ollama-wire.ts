import { textOf, type ChatRequest, type UpstreamEvent } from './types.js';
import { contentProblem, errorTextOf, isRecord, malformed, usageOf } from './wire-values.js';

/** The body sent to Ollama's `/api/chat`, translated from the OpenAI-style request. */
export function ollamaRequestBody(request: ChatRequest): string {
  const options: Record<string, unknown> = {};
  if (request.temperature !== undefined) options.temperature = request.temperature;
  if (request.top_p !== undefined) options.top_p = request.top_p;
  if (request.max_tokens !== undefined) options.num_predict = request.max_tokens;
  if (request.seed !== undefined) options.seed = request.seed;
  if (request.stop !== undefined) options.stop = Array.isArray(request.stop) ? request.stop : [request.stop];
  const messages = request.messages.map((message) => {
    const images = Array.isArray(message.content)
      ? message.content.flatMap((part) => imageOf(part))
      : [];
    return { role: message.role, content: textOf(message.content), ...(images.length ? { images } : {}) };
  });
  return JSON.stringify({ model: request.model, messages, stream: true, ...(Object.keys(options).length ? { options } : {}) });
}

// Ollama takes base64 images beside the text; OpenAI sends them as data URLs in content parts.
function imageOf(part: Record<string, unknown>): string[] {
  const url = (part.image_url as { url?: unknown } | undefined)?.url;
  if (part.type !== 'image_url' || typeof url !== 'string') return [];
  const match = /^data:[^;]+;base64,(.*)$/.exec(url);
  return match?.[1] ? [match[1]] : [];
}

/**
 * Turns one NDJSON line from Ollama's `/api/chat` (or `/api/generate`) into events; true when the line
 * says the answer is complete (`done: true`). Anything that is not an Ollama line (not JSON, not an
 * object, non-text content) becomes an error event; nothing here throws.
 */
export function parseOllamaLine(line: string, out: UpstreamEvent[]): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    malformed(out, 'a line that is not JSON');
    return false;
  }
  if (!isRecord(parsed)) {
    malformed(out, 'a line that is not a JSON object');
    return false;
  }
  if (parsed.error) {
    out.push({ type: 'error', message: 'upstream reported an error', detail: errorTextOf(parsed.error) });
    return false;
  }
  const { message } = parsed;
  if (message !== undefined && message !== null && !isRecord(message)) {
    malformed(out, 'a message that is not a JSON object');
    return false;
  }
  const content = message?.content ?? parsed.response;
  const problem = contentProblem(content);
  if (problem) {
    malformed(out, problem);
    return false;
  }
  if (typeof content === 'string' && content !== '') out.push({ type: 'delta', content });
  if (parsed.done !== true) return false;
  out.push({ type: 'finish', reason: parsed.done_reason === 'length' ? 'length' : 'stop' });
  out.push({ type: 'usage', usage: usageOf(parsed.prompt_eval_count, parsed.eval_count) });
  return true;
}
