import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { startClientSpan, type TraceSpan } from '../telemetry/tracing.js';
import { maskUrlCredentials, redactSecrets, secretsOf } from './redact.js';
import { normaliseBaseUrl, type UpstreamTarget } from './types.js';

/** One model as an upstream lists it. */
export interface UpstreamModel {
  /** The id the upstream knows (OpenAI `id`, Ollama `name`). */
  id: string;
  /** Epoch seconds, when the upstream says. */
  created: number | null;
}

/** A model list that could not be read, with a message fit to show an admin. */
export class UpstreamListError extends Error {
  override name = 'UpstreamListError';
}

const openAiList = z.object({ data: z.array(z.object({ id: z.string().min(1), created: z.unknown().optional() })) });
const ollamaList = z.object({ models: z.array(z.object({ name: z.string().min(1), modified_at: z.unknown().optional() })) });

/** The URL of an upstream's model list: OpenAI `${base}/models`, Ollama `${base}/api/tags`. */
export function modelListUrl(target: Pick<UpstreamTarget, 'type' | 'baseUrl'>): string {
  const base = normaliseBaseUrl(target.baseUrl);
  return target.type === 'openai' ? `${base}/models` : `${base}/api/tags`;
}

/** Asks an upstream for its models through `dispatcher`, giving up after `timeoutMs`; throws UpstreamListError. */
export async function fetchModelList(dispatcher: Dispatcher, target: UpstreamTarget, timeoutMs: number): Promise<UpstreamModel[]> {
  const url = modelListUrl(target);
  const signal = AbortSignal.timeout(timeoutMs);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (target.apiKey) headers.authorization = `Bearer ${target.apiKey}`;
  let status: number;
  let text: string;
  let span: TraceSpan | undefined;
  try {
    span = startClientSpan('GET', new URL(url), headers);
    const response = await request(url, { method: 'GET', headers, signal, dispatcher });
    status = response.statusCode;
    text = await response.body.text();
  } catch (error) {
    // Messages go to admins and the log: the URL without its credentials, the error text redacted.
    const failure = new UpstreamListError(redactSecrets(describeFailure(error, maskUrlCredentials(url), signal.aborted, timeoutMs), secretsOf(target)));
    span?.end(undefined, failure);
    throw failure;
  }
  span!.end({ 'http.response.status_code': status }, status >= 400 ? `HTTP ${status}` : undefined);
  if (status >= 400) {
    throw new UpstreamListError(`${maskUrlCredentials(url)} answered HTTP ${status}${redactSecrets(detailOf(text), secretsOf(target))}`);
  }
  return parseModelList(target.type, text, maskUrlCredentials(url));
}

function parseModelList(type: UpstreamTarget['type'], text: string, url: string): UpstreamModel[] {
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
