import type { ServerResponse } from 'node:http';
import type { GenerationInfo, GenerationOutcome, StreamingListener } from './generation.js';

/** Which Ollama endpoint's shape to write: `message` objects (chat) or `response` text (generate). */
export type OllamaShape = 'chat' | 'generate';

function piece(shape: OllamaShape, content: string): Record<string, unknown> {
  return shape === 'chat' ? { message: { role: 'assistant', content } } : { response: content };
}

/** The closing object of an Ollama answer, with counts and durations in nanoseconds. */
export function ollamaFinal(shape: OllamaShape, info: GenerationInfo, outcome: GenerationOutcome, content: string) {
  const evalNs = Math.max(0, outcome.durationMs - (outcome.ttftMs ?? 0)) * 1e6;
  return {
    model: info.model,
    created_at: new Date().toISOString(),
    ...piece(shape, content),
    done: true,
    done_reason: outcome.finishReason === 'length' ? 'length' : 'stop',
    total_duration: outcome.durationMs * 1e6,
    load_duration: 0,
    prompt_eval_count: outcome.usage?.prompt_tokens ?? 0,
    prompt_eval_duration: (outcome.ttftMs ?? 0) * 1e6,
    eval_count: outcome.usage?.completion_tokens ?? 0,
    eval_duration: evalNs,
  };
}

/** Streams a generation as Ollama's newline-delimited JSON. */
export function ollamaNdjsonListener(res: ServerResponse, shape: OllamaShape, headers: Record<string, string>) {
  const ensureHead = (more?: Record<string, string>) => {
    if (!res.headersSent) res.writeHead(200, { 'content-type': 'application/x-ndjson', 'x-accel-buffering': 'no', ...headers, ...more });
  };
  const listener: StreamingListener = {
    ensureHead,
    onEvents(batch, info) {
      ensureHead();
      let text = '';
      const createdAt = new Date().toISOString();
      for (const event of batch) {
        if (event.type === 'delta') {
          text += `${JSON.stringify({ model: info.model, created_at: createdAt, ...piece(shape, event.content), done: false })}\n`;
        }
      }
      if (text) res.write(text);
    },
    onEnd(outcome, info) {
      ensureHead();
      if (outcome.status === 'error') res.end(`${JSON.stringify({ error: outcome.error })}\n`);
      else res.end(`${JSON.stringify(ollamaFinal(shape, info, outcome, ''))}\n`);
    },
  };
  return listener;
}
