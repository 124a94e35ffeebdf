import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** Largest request body accepted; larger bodies get 413 rather than filling memory. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** Thrown by readBody when the body passes MAX_BODY_BYTES. */
export class BodyTooLargeError extends Error {}

/** Writes a complete JSON response with an exact content-length (keeps keep-alive cheap). */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers?: OutgoingHttpHeaders): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload),
    ...headers,
  });
  res.end(payload);
}

/** Collects a request body; rejects when the client leaves early or the body is too large. */
export function readBody(req: IncomingMessage, limit: number = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let isDone = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        isDone = true;
        req.removeAllListeners('data');
        req.resume();
        reject(new BodyTooLargeError(`request body over ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      isDone = true;
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    });
    req.on('error', (error) => {
      if (!isDone) reject(error);
      isDone = true;
    });
    req.on('close', () => {
      if (!isDone) reject(new Error('client closed the request before its body ended'));
      isDone = true;
    });
  });
}

/** Parses a JSON body; undefined for an empty or malformed one (JSON itself never yields undefined). */
export function parseJsonBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** Path part of a request URL, without the query string. */
export function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/** Narrows an unknown JSON value to a plain object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
