import { startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newChat, type TestUser } from './support/factories.js';
import { captureLog, type LogCapture } from './support/log-capture.js';
import { closedPort } from './support/ports.js';
import { parseSse, type SseData } from './support/streams.js';
import { startWithUsers } from './support/start-with-users.js';
import type { TestApp } from './support/test-app.js';
import { jsonOf, type ErrorBody, type AuditPage, type Chat, type Connection, type ConnectionTestResult } from './support/wire.js';

// The secrets of this test: an upstream key the upstream echoes back, and passwords in connection URLs.
const upstreamKey = 'sk-parley-upstream-0123456789abcdef';
const openAiUrlPassword = 'url-pass-openai-77';
const ollamaUrlPassword = 'url-pass-ollama-88';
// The echo-auth models also print a URL with this password in it.
const echoedPassword = 'hunter2';
const secrets = [upstreamKey, openAiUrlPassword, ollamaUrlPassword, echoedPassword];

const messages = [{ role: 'user', content: 'Hello' }];
const userRef = /^Upstream error \(ref ([0-9a-f]{12})\): upstream (answered HTTP 401|reported an error)$/;
const formats = [
  { name: 'OpenAI', id: (model: string) => `${model}@OpenAI 1` },
  { name: 'Ollama', id: (model: string) => model },
] as const;

const expectNoSecret = (text: string, where: string) => {
  for (const secret of secrets) expect(text, `${where} holds ${secret}`).not.toContain(secret);
};

describe('upstream errors are redacted: keys and URL credentials reach no response, log, audit entry or admin API', () => {
  let fake: FakeLlm;
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;
  let log: LogCapture;

  beforeAll(async () => {
    fake = await startFakeLlm({ apiKey: upstreamKey });
    log = captureLog();
    ({ app, admin, user } = await startWithUsers(
      {
        OPENAI_API_BASE_URLS: `http://svc:${openAiUrlPassword}@127.0.0.1:${fake.port}/v1`,
        OPENAI_API_KEYS: upstreamKey,
        OLLAMA_BASE_URLS: `http://olla:${ollamaUrlPassword}@127.0.0.1:${fake.port}`,
        LOG_LEVEL: 'info',
      },
      { logTo: log.stream },
    ));
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  const post = (token: string, body: Record<string, unknown>) =>
    fetch(`${app.url}/api/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages, ...body }),
    });

  const savedAnswer = async (owner: TestUser, chatId: string) => {
    const got = await app.request<Chat>('GET', `/api/v1/chats/${chatId}`, { token: owner.token });
    return got.body.chat.messages.at(-1) as unknown as { content: string; error?: { content: string } };
  };

  /** The log line that carries a reference's details. */
  const logLineOf = async (ref: string) => {
    await log.flushed(app.parley.platform.log);
    return log.lines.find((line) => line.ref === ref);
  };

  for (const format of formats) {
    it(`${format.name}: a refusal echoing the key gives users a reference, admins the redacted words, the log both`, async () => {
      const chat = await newChat(app, user);
      const refused = await post(user.token, { model: format.id('echo-auth-401'), stream: true, chat_id: chat.id, parent_id: null });
      expect(refused.status).toBe(502);
      const text = await refused.text();
      expectNoSecret(text, 'the response');
      const { detail, code } = JSON.parse(text) as ErrorBody;
      expect(code).toBe('upstream_error');
      const ref = userRef.exec(detail)?.[1];
      expect(ref, detail).toBeDefined();
      expect((await savedAnswer(user, chat.id)).error?.content).toBe(detail);
      // The log line with that reference holds what the upstream said, redacted.
      const line = await logLineOf(ref!);
      expect(line).toMatchObject({ msg: 'upstream error', upstreamError: 'upstream answered HTTP 401', upstreamDetail: expect.stringContaining('Invalid key: Authorization: [redacted]') });

      const forAdmin = await post(admin.token, { model: format.id('echo-auth-401'), stream: true });
      const adminText = await forAdmin.text();
      expectNoSecret(adminText, 'the admin response');
      expect((JSON.parse(adminText) as ErrorBody).detail).toMatch(/^upstream answered HTTP 401: Invalid key: Authorization: \[redacted\] \(ref [0-9a-f]{12}\)$/);
    });

    it(`${format.name}: an error inside the stream is shown the same way, in the stream, the saved answer and a resume`, async () => {
      const chat = await newChat(app, user);
      const response = await post(user.token, { model: format.id('echo-auth-midstream'), stream: true, chat_id: chat.id, parent_id: null });
      const generation = response.headers.get('x-parley-generation-id')!;
      const text = await response.text();
      expectNoSecret(text, 'the stream');
      const errors = parseSse(text).flatMap((event) => (event.data.error ? [event.data.error.message as string] : []));
      expect(errors).toEqual([expect.stringMatching(userRef)]);
      const ref = userRef.exec(errors[0]!)![1]!;
      expect((await savedAnswer(user, chat.id)).error?.content).toBe(errors[0]);
      expect(await logLineOf(ref)).toMatchObject({ generation, upstreamDetail: expect.stringContaining('[redacted]') });
      // A client resuming from the log replays the same words.
      const replay = await (await fetch(`${app.url}/api/chat/completions/${generation}/stream`, { headers: { authorization: `Bearer ${user.token}` } })).text();
      expectNoSecret(replay, 'the replay');
      expect(replay).toContain(`(ref ${ref})`);

      const forAdmin = await (await post(admin.token, { model: format.id('echo-auth-midstream'), stream: true })).text();
      expectNoSecret(forAdmin, 'the admin stream');
      const adminErrors = parseSse(forAdmin).flatMap((event: { data: SseData }) => (event.data.error ? [event.data.error.message as string] : []));
      expect(adminErrors).toEqual([expect.stringMatching(/^upstream reported an error: Invalid key: Authorization: \[redacted\] \(ref [0-9a-f]{12}\)$/)]);
    });
  }

  it('answers a non-streamed request the same way', async () => {
    const response = await post(user.token, { model: 'echo-auth-midstream', stream: false });
    expect(response.status).toBe(502);
    expect((await jsonOf<ErrorBody>(response)).detail).toMatch(userRef);
  });

  it('masks URL credentials in the admin API; the masked URL sent back keeps the stored one', async () => {
    const listed = await app.request<Connection[]>('GET', '/api/v1/connections/', { token: admin.token });
    expectNoSecret(JSON.stringify(listed.body), 'the connection list');
    const openAi = listed.body.find((connection) => connection.type === 'openai')!;
    expect(openAi.base_url).toBe(`http://svc:***@127.0.0.1:${fake.port}/v1`);
    expect(listed.body.find((connection) => connection.type === 'ollama')!.base_url).toBe(`http://olla:***@127.0.0.1:${fake.port}`);

    const storedUrl = async () => (await app.parley.platform.db.kysely.selectFrom('connections').select('base_url').where('id', '=', openAi.id).executeTakeFirstOrThrow()).base_url;
    // What an edit form sends back: every field as shown.
    const resent = await app.request<Connection>('POST', `/api/v1/connections/${openAi.id}/update`, { token: admin.token, body: { name: 'Renamed', base_url: openAi.base_url } });
    expect(resent.body.base_url).toBe(openAi.base_url);
    expect(await storedUrl()).toBe(`http://svc:${openAiUrlPassword}@127.0.0.1:${fake.port}/v1`);
    const changed = await app.request<Connection>('POST', `/api/v1/connections/${openAi.id}/update`, { token: admin.token, body: { base_url: `http://svc:new-pass@127.0.0.1:${fake.port}/v1` } });
    expect(changed.body.base_url).toBe(`http://svc:***@127.0.0.1:${fake.port}/v1`);
    expect(await storedUrl()).toBe(`http://svc:new-pass@127.0.0.1:${fake.port}/v1`);
    await app.request('POST', `/api/v1/connections/${openAi.id}/update`, { token: admin.token, body: { base_url: `http://svc:${openAiUrlPassword}@127.0.0.1:${fake.port}/v1` } });

    const audit = await app.request<AuditPage>('GET', '/api/v1/audit/?limit=100', { token: admin.token });
    const updates = audit.body.events.filter((event) => event.action === 'connection.updated');
    expect(updates.map((event) => (event.details as { base_url?: string }).base_url)).toEqual(['credentials changed', 'credentials changed', undefined]);
  });

  it('masks URL credentials in connection checks and in the log of a model list left out', async () => {
    const port = await closedPort();
    const checked = await app.request<ConnectionTestResult>('POST', '/api/v1/connections/test', {
      token: admin.token,
      body: { type: 'openai', base_url: `http://svc:${openAiUrlPassword}@127.0.0.1:${port}/v1`, api_key: upstreamKey },
    });
    expect(checked.body).toEqual({ ok: false, error: `http://svc:***@127.0.0.1:${port}/v1/models: connection refused` });
    const created = await app.request<Connection>('POST', '/api/v1/connections/', { token: admin.token, body: { type: 'ollama', base_url: `http://olla:${ollamaUrlPassword}@127.0.0.1:${port}` } });
    await app.request('GET', '/api/models', { token: admin.token });
    await log.flushed(app.parley.platform.log);
    expect(log.lines.find((line) => line.msg === 'model list left out')?.reason).toBe(`http://olla:***@127.0.0.1:${port}/api/tags: connection refused`);
    await app.request('DELETE', `/api/v1/connections/${created.body.id}`, { token: admin.token });
  });

  it('leaves no secret in the log or the audit log, the seeding line included', async () => {
    await log.flushed(app.parley.platform.log);
    expectNoSecret(log.raw(), 'the log');
    const seeded = log.lines.find((line) => line.msg === 'connections seeded from the environment');
    expect((seeded?.connections as Array<{ base_url: string }> | undefined)?.map((connection) => connection.base_url)).toEqual([
      `http://olla:***@127.0.0.1:${fake.port}`,
      `http://svc:***@127.0.0.1:${fake.port}/v1`,
    ]);
    const audit = await fetch(`${app.url}/api/v1/audit/export.csv`, { headers: { authorization: `Bearer ${admin.token}` } });
    expect(audit.status).toBe(200);
    expectNoSecret(await audit.text(), 'the audit export');
  });
});
