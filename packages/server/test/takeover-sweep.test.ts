import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectedText, startFakeLlm, type FakeLlm } from '../../fake-llm/src/index.js';
import * as chatsRepo from '../src/features/chats/chats.repo.js';
import { takeoverBudget } from '../src/features/generations/generation-log.js';
import { sweepIntervalMs } from '../src/features/generations/sweep.js';
import type { MessageRow } from '../src/platform/db/schema.js';
import { adminAndUser, newChat, type TestUser } from './support/factories.js';
import { orphanAnswer, orphanMessages, type Orphan } from './support/orphans.js';
import { eventually } from './support/streams.js';
import { startTestApp, type TestApp } from './support/test-app.js';
import type { Chat } from './support/wire.js';

/** Milliseconds from the orphan's lease lapsing to another instance taking it over. */
async function takeoverDelay(orphan: Orphan): Promise<number> {
  await eventually(async () => ((await orphan.entries()).some((entry) => entry.kind === 'takeover') ? true : undefined), 30_000);
  return Date.now() - orphan.leaseEndsAt;
}

describe('the sweeper', () => {
  it('looks for abandoned answers at least every second, whatever the lease', () => {
    expect(sweepIntervalMs(10_000)).toBeLessThanOrEqual(1000);
    expect(sweepIntervalMs(120_000)).toBeLessThanOrEqual(1000);
    expect(sweepIntervalMs(1000)).toBeLessThanOrEqual(500);
  });

  describe('with a 4 s lease', () => {
    let fake: FakeLlm;
    let app: TestApp;
    let user: TestUser;

    beforeAll(async () => {
      fake = await startFakeLlm({ openaiContinuation: 'restart' });
      app = await startTestApp({ OPENAI_API_BASE_URLS: `${fake.url}/v1`, GENERATION_LEASE_TIMEOUT: '4', ENABLE_TITLE_GENERATION: 'false' });
      ({ user } = await adminAndUser(app));
    });
    afterAll(async () => {
      await app.close();
      await fake.close();
    });

    it('takes every abandoned answer over within the lease + 1 s of its instance dying', async () => {
      // Four instances die a second apart: whenever the sweeps fall, one of them waits the longest between two.
      const orphans: Orphan[] = [];
      for (let i = 0; i < 4; i++) {
        orphans.push(await orphanAnswer(app, user, { partial: 'Half an' }));
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      const delays = await Promise.all(orphans.map(takeoverDelay));
      // One sweep interval (0.75 s), and a little for the sweep itself on a busy machine.
      expect(Math.max(...delays)).toBeLessThan(1500);
    });
  });

  describe('with a 1 s lease', () => {
    let fake: FakeLlm;
    let app: TestApp;
    let user: TestUser;

    beforeAll(async () => {
      fake = await startFakeLlm({ openaiContinuation: 'restart' });
      app = await startTestApp({ OPENAI_API_BASE_URLS: `${fake.url}/v1`, GENERATION_LEASE_TIMEOUT: '1', ENABLE_TITLE_GENERATION: 'false' });
      ({ user } = await adminAndUser(app));
    });
    afterAll(async () => {
      await app.close();
      await fake.close();
    });

    it('takes a real orphan over in time while 10,000 stale streaming rows wait', async () => {
      // Left by an older version (imported `done: false` messages) an hour ago: nobody's answers.
      const chat = await newChat(app, user);
      const createdAt = Date.now() - 3_600_000;
      const stale: MessageRow[] = Array.from({ length: 10_000 }, (_, index) => ({
        id: randomUUID(),
        chat_id: chat.id,
        parent_id: null,
        role: 'assistant',
        content: 'half an answer',
        model: 'fake-model',
        status: 'streaming',
        error: null,
        usage: null,
        info: '{}',
        files: '[]',
        created_at: createdAt + index,
        updated_at: createdAt + index,
      }));
      await chatsRepo.insertMessages(app.parley.platform.db.kysely, stale);

      const orphan = await orphanAnswer(app, user, { partial: 'Half an' });
      // The lease (1 s) and one sweep interval (0.5 s), with a little for the sweep itself.
      expect(await takeoverDelay(orphan)).toBeLessThan(1000);
      const answer = await eventually(async () => {
        const got = await app.request<Chat>('GET', `/api/v1/chats/${orphan.chatId}`, { token: user.token });
        return got.body.chat.history.messages[orphan.id]?.done ? got.body.chat.history.messages[orphan.id] : undefined;
      });
      expect(answer.content).toBe(expectedText({ model: 'fake-model', messages: orphanMessages }));
    });

    it('ends an answer past its takeover budget as failed, without asking the model again', async () => {
      const orphan = await orphanAnswer(app, user, { partial: 'Half an' });
      // Every takeover it was allowed has happened already (on instances that died in turn).
      for (let i = 0; i < takeoverBudget; i++) await app.parley.platform.shared.hit(`generation:${orphan.id}:takeovers`, takeoverBudget, 600_000);
      const asked = fake.requests.length;

      const answer = await eventually(async () => {
        const got = await app.request<Chat>('GET', `/api/v1/chats/${orphan.chatId}`, { token: user.token });
        const message = got.body.chat.history.messages[orphan.id];
        return message?.error ? message : undefined;
      }, 10_000);
      expect(answer.error?.content).toMatch(/interrupted 4 times/);
      // The partial answer is kept, and the log ends: nobody takes it over again.
      expect(answer.content).toBe('Half an');
      expect((await orphan.entries()).at(-1)).toMatchObject({ kind: 'end', outcome: { status: 'error' } });
      expect(fake.requests.length).toBe(asked);
    });
  });
});
