import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback HTTP server for one test file. */
export interface LocalServer {
  url: string;
  close(): Promise<void>;
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * An OpenAI-compatible model server with one model, `scripted`, whose answer to a prompt is
 * `answers[prompt]` (or `answers.default`), streamed in small pieces: a way to put exact
 * Markdown in front of the browser, which the deterministic fake's random words cannot.
 */
export async function startScriptedUpstream(answers: Record<string, string>, pieceChars = 12, pieceMs = 15): Promise<LocalServer> {
  const server = http.createServer((request, response) => {
    if (request.method === 'GET' && request.url === '/v1/models') {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ object: 'list', data: [{ id: 'scripted', object: 'model', created: 1_700_000_000, owned_by: 'tests' }] }));
      return;
    }
    if (request.method !== 'POST' || request.url !== '/v1/chat/completions') {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end('{"error":{"message":"not found"}}');
      return;
    }
    let raw = '';
    request.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    request.on('end', () => {
      const body = JSON.parse(raw) as { stream?: boolean; messages: { role: string; content: unknown }[] };
      const prompt = String(body.messages.findLast((message) => message.role === 'user')?.content ?? '');
      const text = answers[prompt] ?? answers.default ?? 'No script for this prompt.';
      const head = { id: 'chatcmpl-scripted', created: 1_700_000_000, model: 'scripted' };
      if (!body.stream) {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ ...head, object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }] }));
        return;
      }
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const chunk = (delta: object, finish: string | null) =>
        `data: ${JSON.stringify({ ...head, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      let offset = 0;
      const timer = setInterval(() => {
        if (offset < text.length) {
          response.write(chunk({ ...(offset === 0 ? { role: 'assistant' } : {}), content: text.slice(offset, offset + pieceChars) }, null));
          offset += pieceChars;
          return;
        }
        clearInterval(timer);
        response.end(`${chunk({}, 'stop')}data: [DONE]\n\n`);
      }, pieceMs);
      response.on('close', () => clearInterval(timer));
    });
  });
  const url = await listen(server);
  return { url, close: () => closeServer(server) };
}

/** A server on another origin that counts the requests for its `/pixel` image: what a leak through an image would reach. */
export interface PixelServer extends LocalServer {
  /** The query strings `/pixel` was fetched with. */
  hits: string[];
}

// A 1×1 transparent PNG.
const pixel = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

/** Starts the pixel server on a free loopback port. */
export async function startPixelServer(): Promise<PixelServer> {
  const hits: string[] = [];
  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://pixel');
    if (url.pathname === '/pixel') hits.push(url.search);
    response.writeHead(200, { 'content-type': 'image/png', 'content-length': pixel.length, 'cache-control': 'no-store' });
    response.end(pixel);
  });
  const url = await listen(server);
  return { url, hits, close: () => closeServer(server) };
}
