// The cluster's model server as Parley sees it: an OpenAI-type upstream in front
// of the fake model server. Two differences from the fake itself:
// - OpenAI's API does not continue a trailing assistant message, it answers
//   afresh; the fake would continue it. The proxy drops such a message, so a
//   takeover in `continue` mode gets the whole answer again, as from OpenAI.
// - The poisoned model (POISON_MODEL) sends `data: null` mid-stream. When the
//   fake serves that model itself it is passed through; until then the proxy
//   makes it from `fake-model`'s stream.
// It also counts the calls per model and prompt: how often the upstream was
// made to generate one answer.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { isKnownModel, MIDSTREAM_TOKENS, type FakeLlm } from '../../../packages/fake-llm/src/index.js';

/** The upstream model that poisons its streams; set it to the fake's own fault model's name once it has one. */
export const POISON_MODEL = 'null-midstream';
/** What the poisoned model sends after MIDSTREAM_TOKENS tokens (the rest of the answer follows). */
export const POISON_FRAME = 'data: null\n\n';

/** The OpenAI-type upstream the instances are configured with. */
export interface OpenAiUpstream {
  /** Base URL for OPENAI_API_BASE_URLS (ends with /v1). */
  url: string;
  /** Chat completion requests seen, by `${model} ${last user message}`. */
  calls: Map<string, number>;
  close(): Promise<void>;
}

interface Message {
  role?: unknown;
  content?: unknown;
}

/** The key of `calls`: model and the last user message (the load's prompts are unique). */
export const callKey = (model: string, prompt: string) => `${model} ${prompt}`;

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Rewrites a response body on its way through. */
interface BodyFilter {
  data(chunk: Buffer): void;
  end(): void;
}

/** Passes an SSE body through, writing POISON_FRAME after the first MIDSTREAM_TOKENS events. */
function poisoning(res: http.ServerResponse): BodyFilter {
  let events = 0;
  let carry = '';
  let isPoisoned = false;
  return {
    data(chunk) {
      if (isPoisoned) return void res.write(chunk);
      carry += chunk.toString('utf8');
      for (let end = carry.indexOf('\n\n'); end >= 0 && !isPoisoned; end = carry.indexOf('\n\n')) {
        res.write(carry.slice(0, end + 2));
        carry = carry.slice(end + 2);
        if (++events === MIDSTREAM_TOKENS) {
          res.write(POISON_FRAME);
          isPoisoned = true;
        }
      }
      if (isPoisoned && carry) res.write(carry);
    },
    end() {
      if (!isPoisoned && carry) res.write(carry);
    },
  };
}

/** Starts the proxy in front of `fake`, on a free loopback port. */
export async function startOpenAiUpstream(fake: FakeLlm): Promise<OpenAiUpstream> {
  const calls = new Map<string, number>();
  const isPoisonEmulated = !isKnownModel(POISON_MODEL);
  const fakeUrl = new URL(fake.url);
  // Idle connections to the fake are dropped well before the fake's own 30 s keep-alive ends, so a
  // request never goes out on a connection the fake is closing (a 502 Parley would rightly report).
  const agent = new http.Agent({ keepAlive: true, timeout: 10_000 });

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer | undefined, filter?: BodyFilter) => {
    const headers = { ...req.headers, host: fakeUrl.host, ...(body ? { 'content-length': String(body.length) } : {}) };
    const upstream = http.request({ host: fakeUrl.hostname, port: fakeUrl.port, path: req.url, method: req.method, headers, agent }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.on('data', (chunk: Buffer) => (filter ? filter.data(chunk) : res.write(chunk)));
      answer.once('end', () => {
        filter?.end();
        res.end();
      });
      answer.once('error', () => res.destroy());
    });
    upstream.once('error', () => res.destroy());
    // Parley gave up on the answer (or died): the fake stops generating too.
    res.once('close', () => upstream.destroy());
    upstream.end(body);
  };

  const server = http.createServer((req, res) => {
    void (async () => {
      const path = (req.url ?? '').split('?')[0];
      if (req.method === 'GET' && path === '/v1/models') {
        const list = (await (await fetch(`${fake.url}/v1/models`)).json()) as { data: Array<{ id: string }> };
        if (isPoisonEmulated) list.data.push({ ...list.data[0]!, id: POISON_MODEL });
        return sendJson(res, 200, list);
      }
      if (req.method !== 'POST' || path !== '/v1/chat/completions') {
        return sendJson(res, 404, { error: { message: `Unknown request URL: ${req.method} ${path}`, type: 'invalid_request_error' } });
      }
      const raw = await readBody(req);
      let body: { model?: unknown; messages?: Message[]; stream?: unknown };
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return forward(req, res, raw);
      }
      const model = String(body.model);
      const messages = Array.isArray(body.messages) ? body.messages : [];
      const prompt = [...messages].reverse().find((m) => m.role === 'user')?.content;
      const key = callKey(model, typeof prompt === 'string' ? prompt : JSON.stringify(prompt));
      calls.set(key, (calls.get(key) ?? 0) + 1);
      if (messages.at(-1)?.role === 'assistant') messages.pop();
      const isPoisoned = model === POISON_MODEL && isPoisonEmulated;
      const sent = Buffer.from(JSON.stringify({ ...body, messages, ...(isPoisoned ? { model: 'fake-model' } : {}) }));
      forward(req, res, sent, isPoisoned && body.stream === true ? poisoning(res) : undefined);
    })().catch(() => res.destroy());
  });
  // As the fake does: Parley's connections stay open between answers, as they would to a real upstream.
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        agent.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
