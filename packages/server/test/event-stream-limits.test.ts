import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUp, type TestUser } from './support/factories.js';
import { startWithUsers } from './support/start-with-users.js';
import { eventually, listenToEvents } from './support/streams.js';
import type { TestApp } from './support/test-app.js';
import { jsonOf, type ErrorBody } from './support/wire.js';

describe('event streams per user', () => {
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;

  beforeAll(async () => {
    ({ app, admin, user } = await startWithUsers({ MAX_EVENT_STREAMS_PER_USER: '3' }));
  });
  afterAll(() => app.close());

  const open = (token: string) => fetch(`${app.url}/api/v1/events`, { headers: { authorization: `Bearer ${token}` } });

  it('are capped: past MAX_EVENT_STREAMS_PER_USER the next gets 429, and a closed one frees its place', async () => {
    const tabs = await Promise.all([1, 2, 3].map(() => listenToEvents(app, user.token)));
    try {
      for (const tab of tabs) expect(tab.response.status).toBe(200);
      const refused = await open(user.token);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBeTruthy();
      const body = await jsonOf<ErrorBody>(refused);
      expect(body.code).toBe('rate_limited');
      expect(body.detail).toMatch(/event streams/);
      // Another user is not affected by this one's streams.
      const other = await listenToEvents(app, admin.token);
      expect(other.response.status).toBe(200);
      other.close();
      tabs.pop()!.close();
      // The server learns of the closed tab when its socket closes.
      const reopened = await eventually(async () => {
        const response = await open(user.token);
        if (response.status === 200) return response;
        await response.body?.cancel();
        return undefined;
      });
      await reopened.body?.cancel();
    } finally {
      for (const tab of tabs) tab.close();
    }
  });

  it('are refused to a pending user (403), however many they ask for', async () => {
    const pending = await signUp(app);
    expect(pending.role).toBe('pending');
    for (let i = 0; i < 5; i++) {
      const response = await open(pending.token);
      expect(response.status).toBe(403);
      expect((await jsonOf<ErrorBody>(response)).code).toBe('pending_approval');
    }
  });
});
