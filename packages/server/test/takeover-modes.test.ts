import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedText, startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import { adminAndUser, type TestUser } from './support/factories.js';
import { orphanAnswer, orphanMessages, type Orphan } from './support/orphans.js';
import { eventually } from './support/streams.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import type { ErrorBody, Chat, Connection } from './support/wire.js';

const full = expectedText({ model: 'fake-model', messages: orphanMessages });
// Cut mid-word, as a dying instance leaves it.
const partial = full.slice(0, 23);

/** The saved answer once it is no longer being written. */
async function savedAnswer(app: TestApp, user: TestUser, orphan: Orphan) {
  return eventually(async () => {
    const chat = await app.request<Chat>('GET', `/api/v1/chats/${orphan.chatId}`, { token: user.token });
    const answer = chat.body.chat.history.messages[orphan.id];
    return answer && (answer.done || answer.error) ? answer : undefined;
  }, 15_000);
}

/** What the fake was last asked to answer. */
function lastChatRequest(fake: FakeLlm) {
  return fake.requests.findLast((request) => request.path.endsWith('/chat/completions') || request.path === '/api/chat')?.body as
    | { messages: Array<{ role: string; content: string }>; continue_final_message?: boolean; add_generation_prompt?: boolean }
    | undefined;
}

// An answer whose instance died is finished by another; how depends on what the connection's upstream can do.
describe('takeover mode per connection', () => {
  describe('an OpenAI-compatible connection whose upstream answers again from the start (as OpenAI does)', () => {
    let fake: FakeLlm;
    let app: TestApp;
    let admin: TestUser;
    let user: TestUser;
    let connection: Connection;

    beforeAll(async () => {
      fake = await startFakeLlm({ openaiContinuation: 'restart' });
      app = await startTestApp({ OPENAI_API_BASE_URLS: `${fake.url}/v1`, GENERATION_LEASE_TIMEOUT: '1', ENABLE_TITLE_GENERATION: 'false' });
      ({ admin, user } = await adminAndUser(app));
      connection = (await app.request<Connection[]>('GET', '/api/v1/connections/', { token: admin.token })).body[0]!;
    });
    afterAll(async () => {
      await app.close();
      await fake.close();
    });

    it('regenerates by default, so the saved answer is exactly the model answer, without repeated text', async () => {
      expect(connection.takeover_mode).toBe('auto');
      const orphan = await orphanAnswer(app, user, { partial });
      const answer = await savedAnswer(app, user, orphan);
      expect(answer.error).toBeFalsy();
      expect(answer.content).toBe(full);
      expect(await orphan.entries()).toContainEqual({ seq: 1, kind: 'takeover', mode: 'regenerate' });
      expect(lastChatRequest(fake)?.messages.at(-1)).toEqual({ role: 'user', content: orphanMessages[0]!.content });
    });

    it('continues where the connection says its upstream can (vLLM, with its flags)', async () => {
      fake.setOptions({ openaiContinuation: 'vllm' });
      try {
        const updated = await app.request<Connection>('POST', `/api/v1/connections/${connection.id}/update`, { token: admin.token, body: { takeover_mode: 'continue' } });
        expect(updated.body.takeover_mode).toBe('continue');
        const orphan = await orphanAnswer(app, user, { partial });
        const answer = await savedAnswer(app, user, orphan);
        expect(answer.content).toBe(full);
        expect(await orphan.entries()).toContainEqual({ seq: 1, kind: 'takeover', mode: 'continue' });
        expect(lastChatRequest(fake)).toMatchObject({ continue_final_message: true, add_generation_prompt: false });
        expect(lastChatRequest(fake)?.messages.at(-1)).toEqual({ role: 'assistant', content: partial });
      } finally {
        fake.setOptions({ openaiContinuation: 'restart' });
        await app.request('POST', `/api/v1/connections/${connection.id}/update`, { token: admin.token, body: { takeover_mode: 'auto' } });
      }
    });

    it('keeps takeover_mode in the admin API and refuses values it does not know', async () => {
      const created = await app.request<Connection>('POST', '/api/v1/connections/', {
        token: admin.token,
        body: { type: 'openai', base_url: `${fake.url}/v1`, takeover_mode: 'regenerate', enabled: false },
      });
      expect(created.body.takeover_mode).toBe('regenerate');
      expect((await app.request<Connection>('GET', `/api/v1/connections/${created.body.id}`, { token: admin.token })).body.takeover_mode).toBe('regenerate');
      const bad = await app.request<ErrorBody>('POST', `/api/v1/connections/${created.body.id}/update`, { token: admin.token, body: { takeover_mode: 'sometimes' } });
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBeTruthy();
      await app.request('DELETE', `/api/v1/connections/${created.body.id}`, { token: admin.token });
    });
  });

  describe('an Ollama connection', () => {
    let fake: FakeLlm;
    let app: TestApp;
    let user: TestUser;

    beforeAll(async () => {
      fake = await startFakeLlm();
      app = await startTestApp({ OLLAMA_BASE_URLS: fake.url, GENERATION_LEASE_TIMEOUT: '1', ENABLE_TITLE_GENERATION: 'false' });
      ({ user } = await adminAndUser(app));
    });
    afterAll(async () => {
      await app.close();
      await fake.close();
    });

    it('continues the partial answer by default (Ollama continues a trailing assistant message)', async () => {
      const orphan = await orphanAnswer(app, user, { partial });
      const answer = await savedAnswer(app, user, orphan);
      expect(answer.content).toBe(full);
      expect(await orphan.entries()).toContainEqual({ seq: 1, kind: 'takeover', mode: 'continue' });
      expect(lastChatRequest(fake)?.messages.at(-1)).toEqual({ role: 'assistant', content: partial });
    });
  });
});
