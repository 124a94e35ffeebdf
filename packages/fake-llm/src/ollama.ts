import { createHash } from 'node:crypto';
import { planReply, type ChatMessage, type Reply } from './determinism.js';
import { sendBadRequest, sendModelNotFound } from './errors.js';
import { MIDSTREAM_FAILURE } from './faults.js';
import { runGeneration, type GenerationFormat } from './generation.js';
import { isRecord, sendJson } from './http.js';
import { isKnownModel, MODEL_IDS } from './models.js';
import type { RequestContext } from './types.js';
import { readMessages, readModel, readOptionalCount } from './validate.js';

/** Version reported by /api/version; recent enough for clients that gate features on it. */
export const OLLAMA_VERSION = '0.6.0';

const TAGS = {
  models: MODEL_IDS.map((name) => ({
    name,
    model: name,
    modified_at: '2024-01-01T00:00:00Z',
    size: 1_000_000,
    digest: createHash('sha256').update(name).digest('hex'),
    details: {
      parent_model: '',
      format: 'gguf',
      family: 'fake',
      families: ['fake'],
      parameter_size: '1M',
      quantization_level: 'Q8_0',
    },
  })),
};

/** GET /api/tags: every model, in Ollama's listing shape. */
export function tags(ctx: RequestContext): void {
  sendJson(ctx.res, 200, TAGS);
}

/** GET /: Ollama's health check, which Ollama clients probe before anything else. */
export function root(ctx: RequestContext): void {
  ctx.res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': 17 });
  ctx.res.end('Ollama is running');
}

/** GET /api/version. */
export function version(ctx: RequestContext): void {
  sendJson(ctx.res, 200, { version: OLLAMA_VERSION });
}

/** Ollama's closing statistics in nanoseconds, split like the real server: load, prompt eval, eval. */
function statsOf(ctx: RequestContext, reply: Reply): Record<string, number> {
  const total = Math.max(3, Number(process.hrtime.bigint() - ctx.startedAt));
  const load = Math.min(100_000, Math.floor(total / 3));
  const promptEval = Math.max(1, Math.min(ctx.options.ttftMs * 1_000_000, total - load - 1));
  return {
    total_duration: total,
    load_duration: load,
    prompt_eval_count: reply.promptTokens,
    prompt_eval_duration: promptEval,
    eval_count: reply.tokens.length,
    // Clients divide eval_count by this for tokens per second, so never report zero.
    eval_duration: Math.max(1, total - load - promptEval),
  };
}

/** NDJSON serialisation for /api/chat (`message`) or /api/generate (`response`). */
function ndjsonFormat(ctx: RequestContext, model: string, kind: 'chat' | 'generate'): GenerationFormat {
  const createdAt = new Date().toISOString();
  const head = `{"model":${JSON.stringify(model)},"created_at":"${createdAt}",`;
  const content = (text: string): Record<string, unknown> =>
    kind === 'chat' ? { message: { role: 'assistant', content: text } } : { response: text };
  const final = (reply: Reply, text: string): Record<string, unknown> => ({
    model,
    created_at: createdAt,
    ...content(text),
    done: true,
    done_reason: reply.finishReason,
    ...statsOf(ctx, reply),
  });
  return {
    dialect: 'ollama',
    contentType: 'application/x-ndjson',
    frame:
      kind === 'chat'
        ? (token) => `${head}"message":{"role":"assistant","content":${JSON.stringify(token)}},"done":false}\n`
        : (token) => `${head}"response":${JSON.stringify(token)},"done":false}\n`,
    errorFrame: `${JSON.stringify({ error: MIDSTREAM_FAILURE })}\n`,
    tail: (reply) => `${JSON.stringify(final(reply, ''))}\n`,
    whole: (reply) => final(reply, reply.tokens.join('')),
  };
}

/** What Ollama answers to a request without a prompt: it only loads the model. */
function sendLoaded(ctx: RequestContext, model: string, kind: 'chat' | 'generate'): void {
  const content = kind === 'chat' ? { message: { role: 'assistant', content: '' } } : { response: '' };
  sendJson(ctx.res, 200, { model, created_at: new Date().toISOString(), ...content, done_reason: 'load', done: true });
}

/** Shared tail of /api/chat and /api/generate once the messages are known. */
async function answer(ctx: RequestContext, body: Record<string, unknown>, model: string, messages: ChatMessage[], kind: 'chat' | 'generate'): Promise<void> {
  const options = isRecord(body.options) ? body.options : {};
  // Ollama uses -1 (and -2) for "no limit"; only a non-negative value bounds the answer.
  const numPredict = typeof options.num_predict === 'number' && options.num_predict < 0 ? undefined : options.num_predict;
  const maxTokens = readOptionalCount(numPredict, 'options.num_predict');
  if (!maxTokens.ok) return sendBadRequest(ctx.res, 'ollama', maxTokens.message);
  if (!isKnownModel(model)) return sendModelNotFound(ctx.res, 'ollama', model);
  if (messages.length === 0) return sendLoaded(ctx, model, kind);
  const reply = planReply({ model, messages, max_tokens: maxTokens.value }, ctx.options.tokens);
  await runGeneration(ctx, model, reply, body.stream !== false, ndjsonFormat(ctx, model, kind));
}

/** POST /api/chat: streams NDJSON unless `stream: false`. */
export async function chat(ctx: RequestContext): Promise<void> {
  const { body, res } = ctx;
  if (!isRecord(body)) return sendBadRequest(res, 'ollama', 'invalid JSON body');
  const model = readModel(body);
  if (!model.ok) return sendBadRequest(res, 'ollama', model.message);
  const messages = body.messages === undefined ? { ok: true as const, value: [] } : readMessages(body.messages);
  if (!messages.ok) return sendBadRequest(res, 'ollama', messages.message);
  await answer(ctx, body, model.value, messages.value, 'chat');
}

/** POST /api/generate: the prompt (and system) become the messages, so text matches /api/chat and OpenAI. */
export async function generate(ctx: RequestContext): Promise<void> {
  const { body, res } = ctx;
  if (!isRecord(body)) return sendBadRequest(res, 'ollama', 'invalid JSON body');
  const model = readModel(body);
  if (!model.ok) return sendBadRequest(res, 'ollama', model.message);
  const { prompt, system } = body;
  if (prompt !== undefined && typeof prompt !== 'string') return sendBadRequest(res, 'ollama', "'prompt' must be a string");
  if (system !== undefined && typeof system !== 'string') return sendBadRequest(res, 'ollama', "'system' must be a string");
  const messages: ChatMessage[] = [];
  if (system) messages.push({ role: 'system', content: system });
  if (prompt) messages.push({ role: 'user', content: prompt });
  await answer(ctx, body, model.value, prompt ? messages : [], 'generate');
}
