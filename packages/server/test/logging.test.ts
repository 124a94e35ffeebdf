import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { newChat, signUp } from './support/factories.js';
import { captureLog, type LogCapture } from './support/log-capture.js';
import { readSse } from './support/streams.js';
import { startTestApp, type TestApp } from './support/test-app.js';

describe('structured logs', () => {
  let fake: FakeLlm;
  let app: TestApp;
  let log: LogCapture;

  beforeAll(async () => {
    fake = await startFakeLlm();
    log = captureLog();
    app = await startTestApp({ OPENAI_API_BASE_URLS: `${fake.url}/v1`, ENABLE_TITLE_GENERATION: 'false', LOG_LEVEL: 'info' }, { logTo: log.stream });
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  /** Waits until the requests with these ids have written their last line, then until the logger has delivered everything before it. */
  async function requestsLogged(...requestIds: string[]): Promise<void> {
    await expect.poll(() => requestIds.filter((id) => !log.lines.some((line) => line.msg === 'request' && line.reqId === id)), { timeout: 10_000 }).toEqual([]);
    await log.flushed(app.parley.platform.log);
  }

  it('write one line per request with request id, user, route template, status and duration', async () => {
    const user = await signUp(app, { password: 'never-log-this-password' });
    const chat = await newChat(app, user);
    const response = await app.request('GET', `/api/v1/chats/${chat.id}`, { token: user.token, headers: { 'x-request-id': 'client-chosen-id-1' } });
    expect(response.headers.get('x-request-id')).toBe('client-chosen-id-1');
    await requestsLogged('client-chosen-id-1');
    const requestLines = log.lines.filter((line) => line.msg === 'request' && line.reqId === 'client-chosen-id-1');
    expect(requestLines).toHaveLength(1);
    expect(requestLines[0]).toMatchObject({ userId: user.id, method: 'GET', route: '/api/v1/chats/:id', status: 200 });
    expect(typeof requestLines[0]!.ms).toBe('number');
    expect(log.lines.some((line) => line.msg === 'incoming request')).toBe(false);
  });

  it('never write passwords, tokens, API keys or message contents', async () => {
    const user = await signUp(app, { password: 'another-secret-password' });
    const key = (await app.request<{ api_key: string }>('POST', '/api/v1/auths/api_key', { token: user.token })).body.api_key;
    const headers = (requestId: string) => ({ 'x-request-id': requestId });
    await app.request('POST', '/api/v1/auths/signin', { body: { email: user.email, password: 'wrong-secret-password' }, headers: headers('secrets-signin') });
    await readSse(
      await fetch(`${app.url}/api/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers('secrets-stream') },
        body: JSON.stringify({ model: 'fake-model', messages: [{ role: 'user', content: 'TOP-SECRET-MESSAGE' }], stream: true }),
      }),
    );
    await app.request('POST', '/api/chat/completions', {
      token: user.token,
      body: { model: 'fail-500', messages: [{ role: 'user', content: 'TOP-SECRET-MESSAGE' }] },
      headers: headers('secrets-failure'),
    });
    await requestsLogged('secrets-signin', 'secrets-stream', 'secrets-failure');
    for (const secret of ['another-secret-password', 'wrong-secret-password', 'never-log-this-password', user.token, key, 'TOP-SECRET-MESSAGE']) {
      expect(log.raw()).not.toContain(secret);
    }
    // Redaction is configuration, checked here on a line that carries every sensitive field, through the server's own logger.
    app.parley.platform.log.child({ module: 'probe' }).info(
      {
        req: { headers: { authorization: 'Bearer probe-authorization', cookie: 'token=probe-cookie' } },
        res: { headers: { 'set-cookie': 'token=probe-set-cookie' } },
        body: { password: 'probe-password', new_password: 'probe-new-password', api_key: 'probe-api-key', token: 'probe-token', messages: ['probe-messages'], content: 'probe-content', prompt: 'probe-prompt' },
      },
      'probe',
    );
    await log.flushed(app.parley.platform.log);
    const probe = log.lines.find((line) => line.msg === 'probe');
    expect(probe).toMatchObject({ module: 'probe', body: { password: '[redacted]', token: '[redacted]' } });
    expect(JSON.stringify(probe)).not.toContain('probe-');
  });
});
