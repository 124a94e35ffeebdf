import type { IncomingMessage, ServerResponse } from 'node:http';
import { ollamaEmbed, ollamaLegacyEmbeddings, openAiEmbeddings } from './embeddings.js';
import { sendError } from './errors.js';
import { BodyTooLargeError, parseJsonBody, pathOf, readBody } from './http.js';
import * as ollama from './ollama.js';
import * as openai from './openai.js';
import type { Dialect, FakeLlmOptions, RecordedRequest, RequestContext } from './types.js';

/** How many requests a server remembers for tests. */
export const RECORDED_REQUESTS = 200;

interface Route {
  dialect: Dialect;
  handle(ctx: RequestContext): void | Promise<void>;
}

/** Abort reason shared by all requests: cheaper than the DOMException abort() builds each time. */
const RESPONSE_CLOSED = new Error('response closed');

/** Mutable state of one server, shared by all its requests. */
export interface ServerState {
  options: FakeLlmOptions;
  requests: RecordedRequest[];
}

const openAiRoute = (handle: Route['handle']): Route => ({ dialect: 'openai', handle });
const ollamaRoute = (handle: Route['handle']): Route => ({ dialect: 'ollama', handle });

// Both /v1/... and bare paths, because clients disagree on whether the base URL includes /v1.
const ROUTES: ReadonlyMap<string, Route> = new Map([
  ['GET /v1/models', openAiRoute(openai.listModels)],
  ['GET /models', openAiRoute(openai.listModels)],
  ['POST /v1/chat/completions', openAiRoute(openai.chatCompletions)],
  ['POST /chat/completions', openAiRoute(openai.chatCompletions)],
  ['POST /v1/embeddings', openAiRoute(openAiEmbeddings)],
  ['POST /embeddings', openAiRoute(openAiEmbeddings)],
  ['GET /api/tags', ollamaRoute(ollama.tags)],
  ['GET /api/version', ollamaRoute(ollama.version)],
  ['POST /api/chat', ollamaRoute(ollama.chat)],
  ['POST /api/generate', ollamaRoute(ollama.generate)],
  ['POST /api/embed', ollamaRoute(ollamaEmbed)],
  ['POST /api/embeddings', ollamaRoute(ollamaLegacyEmbeddings)],
  ['GET /', ollamaRoute(ollama.root)],
]);

/** True when the request carries the configured key (or none is configured). */
function isAuthorized(req: IncomingMessage, apiKey: string | undefined): boolean {
  return apiKey === undefined || apiKey === '' || req.headers.authorization === `Bearer ${apiKey}`;
}

/** Keeps the newest RECORDED_REQUESTS entries, mutating in place so callers' references stay live. */
function record(requests: RecordedRequest[], entry: RecordedRequest): void {
  requests.push(entry);
  if (requests.length > RECORDED_REQUESTS) requests.splice(0, requests.length - RECORDED_REQUESTS);
}

/** Reads, records, authenticates and routes one request. */
async function dispatch(state: ServerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const startedAt = process.hrtime.bigint();
  const path = pathOf(req.url);
  const method = req.method ?? 'GET';
  const route = ROUTES.get(`${method} ${path}`);
  const dialect = route?.dialect ?? (path.startsWith('/api/') ? 'ollama' : 'openai');
  let raw: Buffer;
  try {
    raw = await readBody(req);
  } catch (error) {
    if (error instanceof BodyTooLargeError) sendError(res, dialect, 413, error.message, { headers: { connection: 'close' } });
    return;
  }
  const body = parseJsonBody(raw);
  record(state.requests, { method, path, httpVersion: req.httpVersion, remotePort: req.socket.remotePort, headers: req.headers, body });

  if (route === undefined) {
    return sendError(res, dialect, 404, `no route for ${method} ${path}`, { type: 'invalid_request_error' });
  }
  if (route.dialect === 'openai' && !isAuthorized(req, state.options.apiKey)) {
    return sendError(res, 'openai', 401, 'Incorrect API key provided.', { type: 'invalid_request_error' });
  }
  const controller = new AbortController();
  // 'close' fires when the response finished or the client went away; either way, stop all waits.
  res.once('close', () => controller.abort(RESPONSE_CLOSED));
  await route.handle({ req, res, body, options: { ...state.options }, signal: controller.signal, startedAt });
}

/** The node:http request listener for a server state; a failing handler gives a 500, never a crash. */
export function createRequestListener(state: ServerState): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    dispatch(state, req, res).catch((error: unknown) => {
      if (res.headersSent) res.destroy();
      else sendError(res, 'openai', 500, `fake-llm internal error: ${String(error)}`);
    });
  };
}
