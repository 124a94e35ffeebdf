import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import { HttpError } from '../../http/errors.js';
import { MemorySharedState } from '../../platform/shared/memory-state.js';
import type { Platform } from '../../platform/platform.js';
import { backoffMs, createSigninLimits } from './signin-limits.js';

function limitsAt(clock: { now: number }, env: Record<string, string> = {}) {
  const shared = new MemorySharedState(() => clock.now);
  const metrics = { signinThrottled: { inc: () => undefined } } as unknown as Platform['metrics'];
  return createSigninLimits({ shared, clock: { now: () => clock.now }, metrics }, loadConfig(env));
}

/** The Retry-After of a refused attempt, or 0 when admitted. */
async function retryAfter(attempt: Promise<unknown>): Promise<number> {
  try {
    await attempt;
    return 0;
  } catch (error) {
    expect(error).toBeInstanceOf(HttpError);
    return Number((error as HttpError).headers['retry-after']);
  }
}

describe('sign-in limits', () => {
  it('wait 1 s after the limit, doubling per failure, never longer than the window', () => {
    expect([4, 5, 6, 7, 8].map((failures) => backoffMs(failures, 5, 300_000))).toEqual([0, 1000, 2000, 4000, 8000]);
    expect(backoffMs(14, 5, 300_000)).toBe(300_000);
    expect(backoffMs(10_000, 5, 300_000)).toBe(300_000);
  });

  it('make one address wait longer after each failure, and leave other addresses alone', async () => {
    const clock = { now: 1_000_000 };
    const limits = limitsAt(clock);
    const waits: number[] = [];
    for (let attempt = 0; attempt < 9; attempt++) {
      // Each try comes as soon as the previous wait is over.
      let wait = await retryAfter(limits.admit('owner@example.com', '198.51.100.1').then((a) => limits.failed(a)));
      while (wait > 0) {
        clock.now += wait * 1000;
        waits.push(wait);
        wait = await retryAfter(limits.admit('owner@example.com', '198.51.100.1').then((a) => limits.failed(a)));
      }
    }
    expect(waits).toEqual([1, 2, 4, 8]);
    expect(await retryAfter(limits.admit('owner@example.com', '203.0.113.1'))).toBe(0);
  });

  it('let the right password clear the address’s count', async () => {
    const clock = { now: 1_000_000 };
    const limits = limitsAt(clock);
    for (let i = 0; i < 4; i++) await limits.failed(await limits.admit('a@example.com', '198.51.100.1'));
    await limits.succeeded(await limits.admit('a@example.com', '198.51.100.1'));
    for (let i = 0; i < 4; i++) expect(await retryAfter(limits.admit('a@example.com', '198.51.100.1').then((a) => limits.failed(a)))).toBe(0);
  });

  it('say which failure crossed the account-wide ceiling, once', async () => {
    const clock = { now: 1_000_000 };
    const limits = limitsAt(clock, { LOGIN_RATE_LIMIT_PER_ACCOUNT: '3' });
    const crossed: boolean[] = [];
    for (let i = 0; i < 3; i++) crossed.push(await limits.failed(await limits.admit('a@example.com', `192.0.2.${i}`)));
    expect(crossed).toEqual([false, false, true]);
  });
});
