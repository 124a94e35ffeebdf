import type { ServerResponse, OutgoingHttpHeaders } from 'node:http';
import { sendJson } from './http.js';
import type { Dialect } from './types.js';

/** Error body in the dialect's own shape: OpenAI nests an object, Ollama uses a bare string. */
export function errorBody(dialect: Dialect, message: string, type?: string): unknown {
  if (dialect === 'ollama') return { error: message };
  return { error: type === undefined ? { message } : { message, type } };
}

/** Sends an error response in the dialect's shape. */
export function sendError(
  res: ServerResponse,
  dialect: Dialect,
  status: number,
  message: string,
  options: { type?: string; headers?: OutgoingHttpHeaders } = {},
): void {
  sendJson(res, status, errorBody(dialect, message, options.type), options.headers);
}

/** 400 for a body that is not what the route expects. */
export function sendBadRequest(res: ServerResponse, dialect: Dialect, message: string): void {
  sendError(res, dialect, 400, message, { type: 'invalid_request_error' });
}

/** 404 for a model the fake does not serve, worded like the real upstreams. */
export function sendModelNotFound(res: ServerResponse, dialect: Dialect, model: string): void {
  sendError(res, dialect, 404, `model '${model}' not found`, { type: 'invalid_request_error' });
}
