import type { ServerResponse } from 'node:http';
import type { UpstreamEvent } from '../../platform/llm/types.js';
import type { GenerationInfo, GenerationOutcome, StreamingListener } from '../generations/generations.service.js';

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

/** Streams a generation as Ollama's newline-delimited JSON (a class: one object per held stream, no closures). */
export class OllamaNdjsonWriter implements StreamingListener {
  constructor(
    private readonly res: ServerResponse,
    private readonly shape: OllamaShape,
    private readonly headers: Record<string, string>,
  ) {}

  ensureHead(more?: Record<string, string>): void {
    if (!this.res.headersSent) this.res.writeHead(200, { 'content-type': 'application/x-ndjson', 'x-accel-buffering': 'no', ...this.headers, ...more });
  }

  onEvents(batch: UpstreamEvent[], info: GenerationInfo): void {
    this.ensureHead();
    let text = '';
    const createdAt = new Date().toISOString();
    for (const event of batch) {
      if (event.type === 'delta') {
        text += `${JSON.stringify({ model: info.model, created_at: createdAt, ...piece(this.shape, event.content), done: false })}\n`;
      }
    }
    if (text) this.res.write(text);
  }

  onEnd(outcome: GenerationOutcome, info: GenerationInfo): void {
    this.ensureHead();
    if (outcome.status === 'error') this.res.end(`${JSON.stringify({ error: outcome.error })}\n`);
    else this.res.end(`${JSON.stringify(ollamaFinal(this.shape, info, outcome, ''))}\n`);
  }
}
