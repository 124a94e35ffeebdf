import { describe, expect, it } from 'vitest';
import { DatabaseUnavailableError, isDatabaseUnavailable } from './errors.js';
import { failFastPool, isConnectFailure } from './fail-fast.js';

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });

/** A pool whose next connections fail or succeed as the test says, counting the attempts. */
function scriptedPool() {
  const state = { isUp: false, attempts: 0, probes: 0 };
  const pool = {
    connect: async () => {
      state.attempts += 1;
      if (!state.isUp) throw refused();
      return 'client';
    },
    end: async () => undefined,
  };
  const probe = async () => {
    state.probes += 1;
    if (!state.isUp) throw refused();
  };
  return { state, pool, probe };
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('failFastPool', () => {
  it('after one failed connection attempt, fails at once without trying until a probe succeeds', async () => {
    const { state, pool, probe } = scriptedPool();
    const guarded = failFastPool(pool, probe, 20);
    await expect(guarded.connect()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(guarded.isAvailable()).toBe(false);
    const error = await guarded.connect().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatabaseUnavailableError);
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(state.attempts).toBe(1);

    await until(() => state.probes >= 2);
    state.isUp = true;
    await until(() => guarded.isAvailable());
    await expect(guarded.connect()).resolves.toBe('client');
    await guarded.end();
  });

  it('stops failing fast as soon as a query is known to have succeeded', async () => {
    const { pool, probe } = scriptedPool();
    const guarded = failFastPool(pool, probe, 60_000);
    await guarded.connect().catch(() => undefined);
    expect(guarded.isAvailable()).toBe(false);
    guarded.markAvailable();
    expect(guarded.isAvailable()).toBe(true);
    await guarded.end();
  });

  it('keeps trying when the pool is only full or a login is refused: the server is there', async () => {
    let attempts = 0;
    const guarded = failFastPool(
      {
        connect: async () => {
          attempts += 1;
          throw attempts === 1 ? new Error('timeout exceeded when trying to connect') : Object.assign(new Error('password authentication failed'), { code: '28P01' });
        },
        end: async () => undefined,
      },
      async () => undefined,
    );
    await guarded.connect().catch(() => undefined);
    await guarded.connect().catch(() => undefined);
    expect(attempts).toBe(2);
    expect(guarded.isAvailable()).toBe(true);
    await guarded.end();
  });

  it('tells connection failures from other errors', () => {
    expect(isConnectFailure(refused())).toBe(true);
    expect(isConnectFailure(new Error('Connection terminated due to connection timeout'))).toBe(true);
    expect(isConnectFailure(Object.assign(new Error('the database system is starting up'), { code: '57P03' }))).toBe(true);
    expect(isConnectFailure(new Error('timeout exceeded when trying to connect'))).toBe(false);
    expect(isConnectFailure(Object.assign(new Error('syntax error'), { code: '42601' }))).toBe(false);
    expect(isConnectFailure('ECONNREFUSED')).toBe(false);
  });
});
