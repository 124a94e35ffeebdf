import { request, type Agent } from 'undici';
import { z } from 'zod';
import type { ConnectionType } from '../../platform/db/schema.js';
import { createUpstreamAgent } from '../../platform/llm/upstream-agents.js';
import { startClientSpan, type TraceSpan } from '../../platform/telemetry/tracing.js';

/** One model as an upstream lists it. */
export interface UpstreamModel {
  /** The id the upstream knows (OpenAI `id`, Ollama `name`). */
  id: string;
  /** Epoch seconds, when the upstream says. */
  created: number | null;
}

/** Where and how to ask an upstream for its models. */
export interface UpstreamTarget {
  type: ConnectionType;
  base_url: string;
  api_key: string;
  use_http2: number;
}

// HTTP/1.1 lists go through undici's global pool; HTTP/2 ones share this one, made on first use.
let http2Agent: Agent | undefined;

/** A model list that could not be read, with a message fit to show an admin. */
export class UpstreamListError extends Error {
  override name = 'UpstreamListError';
}

const openAiList = z.object({ data: z.array(z.object({ id: z.string().min(1), created: z.unknown().optional() })) });
const ollamaList = z.object({ models: z.array(z.object({ name: z.string().min(1), modified_at: z.unknown().optional() })) });

/** Removes trailing slashes so paths can be appended with one. */
export function normaliseBaseUrl(url: string): string {
  return url.replace(/\/+$/, '');
}

/** The URL of an upstream's model list: OpenAI `${base}/models`, Ollama `${base}/api/tags`. */
export function modelListUrl(target: Pick<UpstreamTarget, 'type' | 'base_url'>): string {
  const base = normaliseBaseUrl(target.base_url);
  return target.type === 'openai' ? `${base}/models` : `${base}/api/tags`;
}

/** Asks an upstream for its models, giving up after `timeoutMs`; throws UpstreamListError. */
export async function fetchUpstreamModels(target: UpstreamTarget, timeoutMs: number): Promise<UpstreamModel[]> {
  const url = modelListUrl(target);
  const signal = AbortSignal.timeout(timeoutMs);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (target.api_key) headers.authorization = `Bearer ${target.api_key}`;
  let status: number;
  let text: string;
  let span: TraceSpan | undefined;
  try {
    span = startClientSpan('GET', new URL(url), headers);
    const dispatcher = target.use_http2 === 1 ? (http2Agent ??= createUpstreamAgent(true)) : undefined;
    const response = await request(url, { method: 'GET', headers, signal, dispatcher });
    status = response.statusCode;
    text = await response.body.text();
  } catch (error) {
    const failure = new UpstreamListError(describeFailure(error, url, signal.aborted, timeoutMs), { cause: error });
    span?.end(undefined, failure);
    throw failure;
  }
  span!.end({ 'http.response.status_code': status }, status >= 400 ? `HTTP ${status}` : undefined);
  if (status >= 400) {
    throw new UpstreamListError(redact(`${url} answered HTTP ${status}${detailOf(text)}`, target.api_key));
  }
  return parseModelList(target.type, text, url);
}

function parseModelList(type: ConnectionType, text: string, url: string): UpstreamModel[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new UpstreamListError(`${url} did not answer JSON`);
  }
  if (type === 'openai') {
    const parsed = openAiList.safeParse(json);
    if (!parsed.success) throw new UpstreamListError(`${url} did not answer an OpenAI model list ({ data: [{ id }] })`);
    return parsed.data.data.map((m) => ({ id: m.id, created: typeof m.created === 'number' ? Math.floor(m.created) : null }));
  }
  const parsed = ollamaList.safeParse(json);
  if (!parsed.success) throw new UpstreamListError(`${url} did not answer an Ollama model list ({ models: [{ name }] })`);
  return parsed.data.models.map((m) => {
    const modified = typeof m.modified_at === 'string' ? Date.parse(m.modified_at) : NaN;
    return { id: m.name, created: Number.isNaN(modified) ? null : Math.floor(modified / 1000) };
  });
}

function describeFailure(error: unknown, url: string, isTimedOut: boolean, timeoutMs: number): string {
  if (isTimedOut) return `${url} did not answer within ${timeoutMs / 1000}s (timeout)`;
  const code = errorCode(error);
  if (code === 'ECONNREFUSED') return `${url}: connection refused`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `${url}: host not found`;
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return `${url}: connection closed by the server`;
  if (code?.startsWith('ERR_HTTP2')) return `${url}: HTTP/2 failed (${code}); turn HTTP/2 off unless the server speaks it`;
  const message = error instanceof Error ? error.message : String(error);
  return `${url}: ${code ? `${code} ` : ''}${message}`.trim();
}

function errorCode(error: unknown): string | undefined {
  // undici sometimes wraps the socket error; its code is then on the cause (or on one of an AggregateError's).
  for (let current: unknown = error, depth = 0; current && depth < 4; depth++) {
    const candidate = current as { code?: unknown; cause?: unknown; errors?: unknown[] };
    if (typeof candidate.code === 'string' && candidate.code !== 'UND_ERR') return candidate.code;
    current = candidate.cause ?? candidate.errors?.[0];
  }
  return undefined;
}

/** A short reason from an error body: `error.message`, `detail`, `error` or the start of the text. */
function detailOf(text: string): string {
  let detail: unknown = text;
  try {
    const json = JSON.parse(text) as { error?: { message?: unknown } | string; detail?: unknown };
    detail = typeof json.error === 'object' ? json.error?.message : (json.error ?? json.detail ?? text);
  } catch {
    // Not JSON: the text itself.
  }
  const line = typeof detail === 'string' ? detail.trim().slice(0, 200) : '';
  return line ? `: ${line}` : '';
}

// An upstream might echo the credential it rejected; it must not reach an API response.
function redact(message: string, apiKey: string): string {
  return apiKey ? message.replaceAll(apiKey, '[redacted]') : message;
}
