import { connect, constants, type ClientHttp2Session } from 'node:http2';
import { connect as tcpConnect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../src/index.js';
import { postJson, sseChunks, streamedText, useFakeLlm, user } from './helpers.js';

// Model servers behind an h2c-speaking proxy take HTTP/2 with prior knowledge on the same
// port as HTTP/1.1; the fake does the same, so upstream clients can be tested over both.

const ctx = useFakeLlm({ tokens: 12, h2c: true });
const chat = { model: 'fake-model', messages: [user('hello over h2c')], stream: true };
const sessions: ClientHttp2Session[] = [];

afterEach(() => {
  for (const session of sessions.splice(0)) session.destroy();
});

function h2cSession(fake: FakeLlm): ClientHttp2Session {
  const session = connect(fake.url);
  sessions.push(session);
  return session;
}

/** One request over an HTTP/2 session: status, headers and the whole body as text. */
function h2Request(session: ClientHttp2Session, method: string, path: string, body?: unknown) {
  return new Promise<{ status: number; contentType: string; text: string }>((resolve, reject) => {
    const stream = session.request({ ':method': method, ':path': path, ...(body !== undefined && { 'content-type': 'application/json' }) });
    let status = 0;
    let contentType = '';
    let text = '';
    stream.on('response', (headers) => {
      status = Number(headers[constants.HTTP2_HEADER_STATUS]);
      contentType = String(headers['content-type'] ?? '');
    });
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (text += chunk));
    stream.on('end', () => resolve({ status, contentType, text }));
    stream.on('error', reject);
    stream.end(body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body));
  });
}

describe('HTTP/2 with prior knowledge (h2c)', () => {
  it('streams the same chat answer as HTTP/1.1, several streams at once on one connection', async () => {
    const overHttp1 = streamedText(sseChunks(await (await postJson(`${ctx.fake.url}/v1/chat/completions`, chat)).text()));
    const session = h2cSession(ctx.fake);
    const answers = await Promise.all([1, 2, 3].map(() => h2Request(session, 'POST', '/v1/chat/completions', chat)));
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.contentType).toContain('text/event-stream');
      expect(streamedText(sseChunks(answer.text))).toBe(overHttp1);
      expect(answer.text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    }
    expect(overHttp1.length).toBeGreaterThan(0);
    const recorded = ctx.fake.requests.slice(-4);
    expect(recorded.map((r) => r.httpVersion)).toEqual(['1.1', '2.0', '2.0', '2.0']);
    expect(new Set(recorded.slice(1).map((r) => r.remotePort)).size).toBe(1);
    expect(recorded.at(-1)).toMatchObject({ method: 'POST', path: '/v1/chat/completions', body: chat });
  });

  it('answers Ollama routes and errors in their own shapes', async () => {
    const session = h2cSession(ctx.fake);
    const tags = await h2Request(session, 'GET', '/api/tags');
    expect(tags.status).toBe(200);
    expect(JSON.parse(tags.text).models.length).toBeGreaterThan(0);
    const missing = await h2Request(session, 'POST', '/api/nothing', {});
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text)).toEqual({ error: expect.stringContaining('/api/nothing') });
    const badModel = await h2Request(session, 'POST', '/v1/chat/completions', { ...chat, model: 'no-such-model' });
    expect(badModel.status).toBe(404);
  });

  it('refuses a body over the limit with 413 and keeps serving the connection', async () => {
    const session = h2cSession(ctx.fake);
    const tooLarge = await h2Request(session, 'POST', '/v1/chat/completions', 'x'.repeat(16 * 1024 * 1024 + 1));
    expect(tooLarge.status).toBe(413);
    const after = await h2Request(session, 'GET', '/v1/models');
    expect(after.status).toBe(200);
  });

  it('tells HTTP/1.1 from HTTP/2 even when the first bytes arrive one at a time', async () => {
    const socket = tcpConnect(ctx.fake.port, '127.0.0.1');
    try {
      await new Promise((resolve) => socket.once('connect', resolve));
      const request = 'GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
      let reply = '';
      socket.on('data', (chunk: Buffer) => (reply += chunk.toString()));
      const closed = new Promise((resolve) => socket.once('close', resolve));
      // 'P' alone could start an HTTP/2 preface or an HTTP/1 'POST'; the fake must wait, then choose HTTP/1.
      for (const byte of request.slice(0, 3)) {
        socket.write(byte);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      socket.write(request.slice(3));
      await closed;
      expect(reply).toMatch(/^HTTP\/1\.1 200/);
    } finally {
      socket.destroy();
    }
  });

  it('close() ends open HTTP/2 streams instead of hanging', async () => {
    const fake = await startFakeLlm({ h2c: true });
    const session = h2cSession(fake);
    const stalled = h2Request(session, 'POST', '/v1/chat/completions', { ...chat, model: 'stall-midstream' }).catch((error: Error) => error);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = performance.now();
    await fake.close();
    expect(performance.now() - started).toBeLessThan(1000);
    // Cut off: the stream errs or ends short, never with the end of an answer.
    const outcome = await stalled;
    if (!(outcome instanceof Error)) expect(outcome.text).not.toContain('[DONE]');
    expect(session.destroyed || session.closed).toBe(true);
  });
});
