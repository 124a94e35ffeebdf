import { countWords, expectedEmbedding, EMBEDDING_DIMENSIONS } from './determinism.js';
import { sendBadRequest, sendModelNotFound } from './errors.js';
import { passUpstreamFaults } from './faults.js';
import { isRecord, sendJson } from './http.js';
import { isKnownModel, type ModelId } from './models.js';
import type { Dialect, RequestContext } from './types.js';
import { readModel } from './validate.js';

/** Texts to embed: a string or an array of them; token arrays are embedded by their JSON. */
function readInputs(input: unknown): string[] | null {
  if (typeof input === 'string') return [input];
  if (!Array.isArray(input) || input.length === 0) return null;
  if (input.every((item) => typeof item === 'number')) return [JSON.stringify(input)];
  return input.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)));
}

/** Validates an embedding request and applies fault models; null when a response was already sent. */
async function prepare(ctx: RequestContext, dialect: Dialect, field: string): Promise<{ model: ModelId; inputs: string[]; body: Record<string, unknown> } | null> {
  const { body, res } = ctx;
  if (!isRecord(body)) {
    sendBadRequest(res, dialect, 'invalid JSON body');
    return null;
  }
  const model = readModel(body);
  if (!model.ok) {
    sendBadRequest(res, dialect, model.message);
    return null;
  }
  const inputs = readInputs(body[field]);
  if (inputs === null) {
    sendBadRequest(res, dialect, `'${field}' must be a string or a non-empty array`);
    return null;
  }
  if (!isKnownModel(model.value)) {
    sendModelNotFound(res, dialect, model.value);
    return null;
  }
  if (!(await passUpstreamFaults(ctx, model.value, dialect, false))) return null;
  return { model: model.value, inputs, body };
}

/** Words across all inputs, at least 1, as the fake's token count. */
function tokenCount(inputs: readonly string[]): number {
  return Math.max(1, inputs.reduce((sum, text) => sum + countWords(text), 0));
}

/** POST /v1/embeddings: float arrays, or base64 float32 (the OpenAI SDK's default wire encoding). */
export async function openAiEmbeddings(ctx: RequestContext): Promise<void> {
  const request = await prepare(ctx, 'openai', 'input');
  if (request === null) return;
  const { dimensions, encoding_format: encoding } = request.body;
  const size = typeof dimensions === 'number' && Number.isInteger(dimensions) && dimensions > 0 && dimensions <= 4096 ? dimensions : EMBEDDING_DIMENSIONS;
  const data = request.inputs.map((text, index) => {
    const vector = expectedEmbedding(text, size);
    const embedding = encoding === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
    return { object: 'embedding', index, embedding };
  });
  const tokens = tokenCount(request.inputs);
  sendJson(ctx.res, 200, { object: 'list', data, model: request.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
}

/** POST /api/embed: Ollama's batch embedding endpoint. */
export async function ollamaEmbed(ctx: RequestContext): Promise<void> {
  const request = await prepare(ctx, 'ollama', 'input');
  if (request === null) return;
  const total = Math.max(1, Number(process.hrtime.bigint() - ctx.startedAt));
  sendJson(ctx.res, 200, {
    model: request.model,
    embeddings: request.inputs.map((text) => expectedEmbedding(text)),
    total_duration: total,
    load_duration: 0,
    prompt_eval_count: tokenCount(request.inputs),
  });
}

/** POST /api/embeddings: Ollama's older single-prompt endpoint, still used by some clients. */
export async function ollamaLegacyEmbeddings(ctx: RequestContext): Promise<void> {
  const request = await prepare(ctx, 'ollama', 'prompt');
  if (request === null) return;
  sendJson(ctx.res, 200, { embedding: expectedEmbedding(request.inputs[0] as string) });
}
