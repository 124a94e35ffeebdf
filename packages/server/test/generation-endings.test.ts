import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLlm, UPSTREAM_FAILURE, type FakeLlm } from '../../fake-llm/src/index.js';
import { createChatsService } from '../src/features/chats/chats.service.js';
import { adminAndUser, type TestUser } from './support/factories.js';
import { sample } from './support/metrics.js';
import { eventually, listenToEvents } from './support/streams.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import type { Chat, UsageSummary } from './support/wire.js';

// Every way an answer ends is recorded alike: the saved message, usage analytics, metrics and the user's tabs.
describe('how answers end', () => {
  let fake: FakeLlm;
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;

  const summary = async () => (await app.request<UsageSummary>('GET', '/api/v1/analytics/summary', { token: admin.token })).body;
  const scrape = async () => (await fetch(`${app.url}/metrics`)).text();
  const lastMessage = async (chatId: string) => (await app.request<Chat>('GET', `/api/v1/chats/${chatId}`, { token: user.token })).body.chat.messages.at(-1);

  beforeAll(async () => {
    fake = await startFakeLlm();
    // A short lease: the sweeper runs every second.
    app = await startTestApp({ OPENAI_API_BASE_URLS: `${fake.url}/v1`, ENABLE_TITLE_GENERATION: 'false', GENERATION_LEASE_TIMEOUT: '1' });
    ({ admin, user } = await adminAndUser(app));
  });
  afterAll(async () => {
    await app.close();
    await fake.close();
  });

  it('ends an answer whose server died with its log as interrupted: saved, counted in usage and metrics, its tabs told', async () => {
    const chat = await app.request<Chat>('POST', '/api/v1/chats/new', { token: user.token, body: { chat: {} } });
    const before = await summary();
    const tab = await listenToEvents(app, user.token);
    try {
      // An answer begun a minute ago by an instance that is gone: no lease, no log.
      const anotherInstance = createChatsService({ ...app.parley.platform, clock: { now: () => Date.now() - 60_000 } }, { publish: () => undefined });
      const begun = await anotherInstance.beginExchange({ userId: user.id, chatId: chat.body.id, model: 'fake-model', parentId: null, userMessage: { content: 'Anyone there?' } });

      const ended = await eventually(async () => {
        const message = await lastMessage(chat.body.id);
        return message?.error ? message : undefined;
      }, 10_000);
      expect(ended).toMatchObject({ id: begun.assistantMessageId, done: false, error: { content: expect.stringMatching(/interrupted/) } });
      expect(Object.keys(ended.info).sort()).toEqual(['connection_id', 'duration_ms', 'finish_reason', 'stopped', 'tokens_per_second', 'ttft_ms', 'upstream_model']);

      const after = await eventually(async () => {
        const now = await summary();
        return now.errors === before.errors + 1 ? now : undefined;
      });
      expect(after.messages).toBe(before.messages + 1);
      const metrics = await scrape();
      expect(sample(metrics, 'parley_generations_finished_total', { model: 'fake-model', outcome: 'error' })).toBe(1);
      expect(sample(metrics, 'parley_generations_failed_total', { model: 'fake-model' })).toBe(1);
      await eventually(async () => (tab.received.some((event) => event.type === 'answer:done' && event.message_id === begun.assistantMessageId) ? true : undefined));
      expect(tab.received.find((event) => event.type === 'answer:done')).toMatchObject({ chat_id: chat.body.id, status: 'error' });
    } finally {
      tab.close();
    }
  });

  it('saves an answer the upstream refused before streaming like any other, and tells its tabs', async () => {
    const chat = await app.request<Chat>('POST', '/api/v1/chats/new', { token: user.token, body: { chat: {} } });
    const tab = await listenToEvents(app, user.token);
    try {
      const response = await app.request('POST', '/api/chat/completions', {
        token: user.token,
        body: { model: 'fail-500', messages: [{ role: 'user', content: 'x' }], stream: true, chat_id: chat.body.id, parent_id: null },
      });
      expect(response.status).toBe(502);
      const saved = (await lastMessage(chat.body.id))!;
      // The user's own chat holds Parley's words and a reference to the log line with the upstream's.
      expect(saved).toMatchObject({ role: 'assistant', done: false, error: { content: expect.stringMatching(/^Upstream error \(ref [0-9a-f]{12}\): upstream answered HTTP 500$/) } });
      expect(JSON.stringify(saved)).not.toContain(UPSTREAM_FAILURE);
      expect(saved.info).toMatchObject({ connection_id: expect.any(String), upstream_model: 'fail-500', ttft_ms: null, stopped: false, finish_reason: null });
      await eventually(async () => (tab.received.some((event) => event.type === 'answer:done' && event.message_id === saved.id) ? true : undefined));
      expect(sample(await scrape(), 'parley_upstream_errors_total', { kind: 'status' })).toBe(1);
    } finally {
      tab.close();
    }
  });
});
