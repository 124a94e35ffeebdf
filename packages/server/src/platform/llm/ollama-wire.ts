import { textOf, type ChatRequest, type UpstreamEvent } from './types.js';

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

interface OllamaLine {
  message?: { content?: string };
  response?: string;
  done?: boolean;
  done_reason?: string;
  prompt_eval_count?: number;
  eval_count?: number;
  error?: string;
}

/** Turns one NDJSON line from Ollama's `/api/chat` into events. */
export function parseOllamaLine(line: string, out: UpstreamEvent[]): void {
  let parsed: OllamaLine;
  try {
    parsed = JSON.parse(line) as OllamaLine;
  } catch {
    out.push({ type: 'error', message: 'upstream sent a line that is not JSON' });
    return;
  }
  if (parsed.error) {
    out.push({ type: 'error', message: parsed.error });
    return;
  }
  const content = parsed.message?.content ?? parsed.response;
  if (content) out.push({ type: 'delta', content });
  if (parsed.done) {
    out.push({ type: 'finish', reason: parsed.done_reason === 'length' ? 'length' : 'stop' });
    const prompt = parsed.prompt_eval_count ?? 0;
    const completion = parsed.eval_count ?? 0;
    out.push({ type: 'usage', usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion } });
  }
}
