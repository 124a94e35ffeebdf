import { describe, expect, it } from 'vitest';
import { API_KEY_USAGE_INTERVAL_MS, ApiKeyUsage } from './api-key-usage.js';

describe('API key last-use writes', () => {
  it('writes a key used every second at most once a minute', () => {
    const usage = new ApiKeyUsage();
    let writes = 0;
    let stored: number | null = null;
    for (let t = 0; t < 5 * 60_000; t += 1000) {
      // The lookup may read a stale value (another instance, a cache): the instance's own memory still holds.
      if (usage.shouldRecord('k1', t % 7000 === 0 ? null : stored, t)) {
        writes += 1;
        stored = t;
      }
    }
    expect(writes).toBe(5);
  });

  it('skips a key another instance wrote within the minute', () => {
    const usage = new ApiKeyUsage();
    expect(usage.shouldRecord('k1', 1_000, 30_000)).toBe(false);
    expect(usage.shouldRecord('k1', 1_000, 1_000 + API_KEY_USAGE_INTERVAL_MS + 1)).toBe(true);
  });

  it('tracks keys separately', () => {
    const usage = new ApiKeyUsage();
    expect(usage.shouldRecord('a', null, 0)).toBe(true);
    expect(usage.shouldRecord('b', null, 1)).toBe(true);
    expect(usage.shouldRecord('a', null, 2)).toBe(false);
  });
});
