import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { redactedPaths } from '../src/platform/telemetry/logger.js';
import { signUp } from './support/factories.js';
import { readSse } from './support/streams.js';
import { startTestApp, type TestApp } from './support/test-app.js';

describe('structured logs', () => {
  let fake: FakeLlm;
  let app: TestApp;
  const lines: Array<Record<string, any>> = [];
  let raw = '';

  beforeAll(async () => {
    fake = await startFakeLlm();
    const sink = new Writable({
      write(chunk, _encoding, callback) {
        raw += chunk.toString();
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        callback();
      },
    });
    const logger = pino({ level: 'info', redact: { paths: redactedPaths, censor: '[redacted]' } }, sink);
    app = await startTestApp({ OPENAI_API_BASE_URLS: `${fake.url}/v1`, ENABLE_TITLE_GENERATION: 'false' }, { logger });
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  it('write one line per request with request id, user, route template, status and duration', async () => {
    const user = await signUp(app, { password: 'never-log-this-password' });
    const chat = await app.request('POST', '/api/v1/chats/new', { token: user.token, body: { chat: {} } });
    const response = await app.request('GET', `/api/v1/chats/${chat.body.id}`, { token: user.token, headers: { 'x-request-id': 'client-chosen-id-1' } });
    expect(response.headers.get('x-request-id')).toBe('client-chosen-id-1');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const requestLines = lines.filter((line) => line.msg === 'request' && line.reqId === 'client-chosen-id-1');
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({ userId: user.id, method: 'GET', route: '/api/v1/chats/:id', status: 200 });
    expect(typeof requestLines[0]!.ms).toBe('number');
    expect(lines.some((line) => line.msg === 'incoming request')).toBe(false);
  });

  it('never write passwords, tokens, API keys or message contents', async () => {
    const user = await signUp(app, { password: 'another-secret-password' });
    const key = (await app.request('POST', '/api/v1/auths/api_key', { token: user.token })).body.api_key;
    await app.request('POST', '/api/v1/auths/signin', { body: { email: user.email, password: 'wrong-secret-password' } });
    await readSse(
      await fetch(`${app.url}/api/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'TOP-SECRET-MESSAGE' }], stream: true }),
      }),
    );
    await app.request('POST', '/api/chat/completions', { token: user.token, body: { model: 'fail-500', messages: [{ role: 'user', content: 'TOP-SECRET-MESSAGE' }] } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    for (const secret of ['another-secret-password', 'wrong-secret-password', 'never-log-this-password', user.token, key, 'TOP-SECRET-MESSAGE']) {
      expect(raw).not.toContain(secret);
    }
    // Redaction is configuration, checked here on a line that carries every sensitive field.
    const probe: string[] = [];
    const redacting = pino({ redact: { paths: redactedPaths, censor: '[redacted]' } }, new Writable({ write: (c, _e, cb) => (probe.push(c.toString()), cb()) }));
    redacting.info({ req: { headers: { authorization: 'Bearer abc', cookie: 'token=abc' } }, body: { password: 'p', api_key: 'k', token: 't', messages: ['m'], content: 'c' } }, 'probe');
    expect(probe.join('')).not.toMatch(/Bearer abc|token=abc|"p"|"k"|"t"|"m"|"c"/);
  });
});
