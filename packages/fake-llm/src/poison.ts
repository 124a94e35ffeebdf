import type { Reply } from './determinism.js';
import { sendError } from './errors.js';
import { MIDSTREAM_TOKENS } from './faults.js';
import type { PoisonModel } from './poison-models.js';
import { writePaced } from './pacing.js';
import type { Dialect, GenerationFormat, RequestContext } from './types.js';

// The answers of the poisoned models listed in poison-models.ts: each breaks the wire format in one way.

/** The message of the echo-auth models: what a careless upstream says when it rejects a key. */
export function echoedAuthMessage(authorization: string | undefined): string {
  return `Invalid key: Authorization: ${authorization ?? '(none)'} for http://admin:hunter2@internal.example/v1`;
}

/** The bad item each poison inserts, in the dialect's framing (null for the poisons that change the whole body). */
function poisonFrame(model: PoisonModel, dialect: Dialect, ctx: RequestContext, format: GenerationFormat): string | null {
  const sse = (data: string): string => `data: ${data}\n\n`;
  const line = (data: string): string => (dialect === 'openai' ? sse(data) : `${data}\n`);
  switch (model) {
    case 'poison-null':
      return line('null');
    case 'poison-non-object':
      return line(dialect === 'openai' ? '[1,2,3]' : '"just a string"');
    case 'poison-invalid-json':
      return line(dialect === 'openai' ? '{"choices":[{"delta":{"content":"x"' : '{"message":{"content":');
    case 'poison-non-string':
      return dialect === 'openai'
        ? sse('{"choices":[{"index":0,"delta":{"content":12345},"finish_reason":null}]}') + sse('{"choices":[{"index":0,"delta":{"content":{"a":1}},"finish_reason":null}]}')
        : '{"message":{"role":"assistant","content":12345},"done":false}\n{"message":{"role":"assistant","content":{"a":1}},"done":false}\n';
    case 'poison-nul':
      return format.frame(' nul\u0000byte', MIDSTREAM_TOKENS);
    case 'echo-auth-midstream': {
      const message = echoedAuthMessage(ctx.req.headers.authorization);
      return line(JSON.stringify(dialect === 'openai' ? { error: { message } } : { error: message }));
    }
    default:
      return null;
  }
}

/** Writes `size` bytes of one endless line, respecting backpressure; stops when the client leaves. */
function writeHugeLine(ctx: RequestContext, prefix: string, size: number): Promise<void> {
  const { res, signal } = ctx;
  const piece = Buffer.alloc(64 * 1024, 'a');
  let sent = 0;
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', step);
      signal.removeEventListener('abort', done);
      if (!signal.aborted) res.end();
      resolve();
    };
    function step(): void {
      while (sent < size && !signal.aborted) {
        const length = Math.min(piece.length, size - sent);
        sent += length;
        if (!res.write(length === piece.length ? piece : piece.subarray(0, length))) {
          res.once('drain', step);
          return;
        }
      }
      done();
    }
    signal.addEventListener('abort', done, { once: true });
    res.write(prefix);
    step();
  });
}

/**
 * Answers a streamed request for a poisoned model. The statuses (echo-auth-401, poison-html) apply to
 * non-streamed requests too; the stream poisons only to streams (a non-streamed request is answered normally).
 * Returns false when the request was answered here.
 */
export async function answerPoisoned(ctx: RequestContext, model: PoisonModel, reply: Reply, isStreaming: boolean, format: GenerationFormat): Promise<boolean> {
  const { res, signal, options } = ctx;
  const dialect = format.dialect;
  if (model === 'echo-auth-401') {
    sendError(res, dialect, 401, echoedAuthMessage(ctx.req.headers.authorization));
    return false;
  }
  if (model === 'poison-html') {
    const page = '<!doctype html><html><head><title>Sign in</title></head><body><form>Proxy login</form></body></html>';
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(page) });
    res.end(page);
    return false;
  }
  if (!isStreaming) return true;
  res.writeHead(200, { 'content-type': format.contentType, 'cache-control': 'no-cache' });
  res.flushHeaders();
  if (model === 'poison-huge-line') {
    await writeHugeLine(ctx, dialect === 'openai' ? 'data: {"x":"' : '{"x":"', options.hugeLineBytes);
    return false;
  }
  const frames = reply.tokens.map((token, index) => format.frame(token, index));
  if (model === 'poison-cr' || model === 'poison-crlf' || model === 'poison-bom') {
    // JSON escapes its own newlines, so every LF in the body is a line ending.
    const body = frames.join('') + format.tail(reply);
    if (model === 'poison-bom') res.end(`\ufeff${body}`);
    else res.end(body.replaceAll('\n', model === 'poison-cr' ? '\r' : '\r\n'));
    return false;
  }
  const first = frames.slice(0, MIDSTREAM_TOKENS);
  if (!(await writePaced(res, first, options, signal))) return false;
  if (model === 'poison-cut') {
    res.end();
    return false;
  }
  const poison = poisonFrame(model, dialect, ctx, format) ?? '';
  res.end(poison + frames.slice(MIDSTREAM_TOKENS).join('') + format.tail(reply));
  return false;
}
