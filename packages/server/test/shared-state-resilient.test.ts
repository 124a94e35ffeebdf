import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './support/streams.js';
import { inbox, redisStates, testPrefix } from './support/shared-state.js';
import { startStallingProxy, type StallingProxy } from './support/stalling-proxy.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { SharedStateUnavailableError } from '../src/platform/shared/errors.js';
import type { SharedState } from '../src/platform/shared/shared-state.js';

// The shared state the app builds for Redis, cut off from it and given it back: it must keep serving
// from memory, refuse only what Redis alone knows, and hand everything over when Redis returns.
const redis = redisStates();

/** Resolves how long `work` took, in ms. */
async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = Date.now();
  await work();
  return Date.now() - started;
}

describe.skipIf(process.env.PARLEY_TEST_DB === 'postgres')('shared state through a Redis outage', () => {
  let proxy: TcpProxy;
  const opened: SharedState[] = [];

  /** The state under test (through the proxy) and a Redis-only view of the same keys (not cut off). */
  function pair() {
    const prefix = testPrefix();
    const state = redis.make(prefix, { redisUrl: `redis://127.0.0.1:${proxy.port}/0` });
    const direct = redis.makeRedisOnly(prefix);
    opened.push(state, direct);
    return { state, direct, prefix };
  }
  async function cut(state: SharedState): Promise<void> {
    await proxy.cut();
    await eventually(async () => (state.isDegraded() ? true : undefined));
  }
  /** Restores Redis and resolves how long the state took to serve from it again. */
  async function restore(state: SharedState): Promise<number> {
    await proxy.restore();
    const restoredAt = Date.now();
    await eventually(async () => (state.isDegraded() ? undefined : true), 10_000);
    return Date.now() - restoredAt;
  }

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
  });
  afterEach(async () => {
    await proxy.restore().catch(() => undefined);
    await Promise.all(opened.splice(0).map((state) => state.close()));
  });
  afterAll(async () => {
    await proxy.close();
    await redis.cleanUp();
  });

  it('serves from memory at once: per-instance counters, local messages, its own leases and writes; refuses what only Redis knows', async () => {
    const { state, direct } = pair();
    expect(await state.acquireLease('held', 'me', 60_000)).toBe(true);
    expect(await direct.acquireLease('elsewhere', 'other', 60_000)).toBe(true);
    await state.setCached('catalog', ['m1'], 60_000);
    const received = inbox();
    await state.subscribe('events', received.handler);
    expect(state.isDegraded()).toBe(false);

    await cut(state);
    const took = await timed(async () => {
      const hits = [];
      for (let attempt = 0; attempt < 4; attempt++) hits.push(await state.hit('login', 3, 60_000));
      expect(hits.map((hit) => [hit.count, hit.allowed])).toEqual([[1, true], [2, true], [3, true], [4, false]]);
      expect(await state.peek('login')).toBe(4);

      await state.publish('events', 'heard here');
      await eventually(async () => (received.messages.length ? true : undefined));
      expect(received.messages).toEqual(['heard here']);

      expect(await state.leaseOwner('held')).toBe('me');
      expect(await state.renewLease('held', 'me', 60_000)).toBe(true);
      expect(await state.acquireLease('new', 'me', 60_000)).toBe(true);
      await expect(state.leaseOwner('elsewhere')).rejects.toThrow(SharedStateUnavailableError);

      // A cache may miss; a strict read (a record) must not pass for absent.
      expect(await state.getCached('catalog')).toBeUndefined();
      await expect(state.getCached('catalog', { strict: true })).rejects.toThrow(SharedStateUnavailableError);
      await state.setCached('written-here', { a: 1 }, 60_000);
      expect(await state.getCached('written-here', { strict: true })).toEqual({ a: 1 });

      expect(await state.appendToStream('log', { n: '1' })).toMatch(/^\d+-\d+$/);
      await expect(state.readStream('log', null)).rejects.toThrow(SharedStateUnavailableError);
      await expect(state.readStream('log', null, { blockMs: 5000 })).rejects.toThrow(SharedStateUnavailableError);
      await expect(state.readStream('log', 'bad id')).rejects.toThrow(RangeError);
      await expect(state.ping()).rejects.toThrow(SharedStateUnavailableError);
    });
    // Nothing waited on the dead connection (one call that did would take its 1 s limit).
    expect(took).toBeLessThan(950);
  });

  it('hands over what it did in memory within a second of Redis returning, then serves from Redis', async () => {
    const { state, direct, prefix } = pair();
    await state.appendToStream('log', { n: '1' }, { ttlMs: 60_000 });
    await state.appendToStream('log', { n: '2' }, { ttlMs: 60_000 });
    expect(await state.acquireLease('held', 'me', 60_000)).toBe(true);
    expect(await state.acquireLease('released', 'me', 60_000)).toBe(true);
    await state.setCached('stale', 'old', 60_000);
    for (let attempt = 0; attempt < 3; attempt++) await state.hit('forgiven', 10, 60_000);

    await cut(state);
    await state.hit('login', 10, 60_000);
    await state.hit('login', 10, 60_000);
    await state.reset('forgiven');
    await state.setCached('fresh', { v: 2 }, 60_000);
    await state.deleteCached('stale');
    expect(await state.acquireLease('new', 'me', 60_000)).toBe(true);
    expect(await state.releaseLease('released', 'me')).toBe(true);
    await state.appendToStream('log', { n: '3' }, { ttlMs: 60_000 });
    await state.appendToStream('log', { n: '4' }, { ttlMs: 60_000 });
    await state.appendToStream('started-during', { n: 'a' }, { ttlMs: 60_000 });
    const late = inbox();
    await state.subscribe('late', late.handler);

    expect(await restore(state)).toBeLessThan(1000);
    expect(await direct.peek('login')).toBe(2);
    expect(await redis.admin().pttl(`${prefix}rate:login`)).toBeGreaterThan(50_000);
    expect(await direct.peek('forgiven')).toBe(0);
    expect(await direct.getCached('fresh')).toEqual({ v: 2 });
    expect(await direct.getCached('stale')).toBeUndefined();
    expect(await direct.leaseOwner('held')).toBe('me');
    expect(await direct.leaseOwner('new')).toBe('me');
    expect(await direct.leaseOwner('released')).toBeNull();
    expect((await direct.readStream('log', null)).map((entry) => entry.fields.n)).toEqual(['1', '2', '3', '4']);
    expect((await direct.readStream('started-during', null)).map((entry) => entry.fields.n)).toEqual(['a']);
    // A subscription made during the outage now hears other instances.
    await direct.publish('late', 'from another instance');
    await eventually(async () => (late.messages.length ? true : undefined), 2000);
    expect(late.messages).toEqual(['from another instance']);
    // And the state reads Redis again: what another instance writes is seen.
    await direct.setCached('from-elsewhere', 1, 60_000);
    expect(await state.getCached('from-elsewhere')).toBe(1);
    expect((await state.readStream('log', null)).map((entry) => entry.fields.n)).toEqual(['1', '2', '3', '4']);
  });

  it('keeps a burst of appends in order, once each, across the moment Redis goes away', async () => {
    const { state, direct } = pair();
    await state.ping();
    const appends: Array<Promise<string>> = [];
    for (let index = 0; index < 400; index++) {
      appends.push(state.appendToStream('burst', { index: String(index) }));
      // Cut while appends are in flight: some land in Redis, the others fail later than those made after.
      if (index === 200) void proxy.cut();
      if (index % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(appends);
    await eventually(async () => (state.isDegraded() ? true : undefined));
    await restore(state);
    const logged = (await direct.readStream('burst', null)).map((entry) => Number(entry.fields.index));
    expect(logged).toEqual(Array.from({ length: 400 }, (_, index) => index));
  });

  it('comes back while the instance keeps writing, without losing or reordering a write', async () => {
    const { state, direct } = pair();
    await cut(state);
    let written = 0;
    let isWriting = true;
    const writer = (async () => {
      while (isWriting) {
        await state.appendToStream('busy', { index: String(written++) });
        await state.hit('busy', 1_000_000, 60_000);
        // As a relay does, between network reads: memory answers at once, and the loop must let I/O in.
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    await eventually(async () => (written > 100 ? true : undefined));
    const took = await restore(state);
    isWriting = false;
    await writer;
    // Without the hand-over's last round it never comes back (the wait above gives up after 10 s); the bound is loose for busy machines.
    expect(took).toBeLessThan(5000);
    const logged = (await direct.readStream('busy', null)).map((entry) => Number(entry.fields.index));
    expect(logged).toEqual(Array.from({ length: written }, (_, index) => index));
    expect(await direct.peek('busy')).toBe(written);
  });

  it('starts without Redis, serving from memory, and moves to Redis when it appears', async () => {
    await proxy.cut();
    const { state, direct } = pair();
    await eventually(async () => (state.isDegraded() ? true : undefined));
    // Served from memory: no wait on the 1 s call limit.
    expect(await timed(() => state.hit('early', 10, 60_000))).toBeLessThan(900);
    const received = inbox();
    await state.subscribe('events', received.handler);
    expect(await restore(state)).toBeLessThan(1000);
    expect(await direct.peek('early')).toBe(1);
    await direct.publish('events', 'hello');
    await eventually(async () => (received.messages.length ? true : undefined), 2000);
  });

  it('gives up a lease another instance took while it could not renew it', async () => {
    const { state, direct } = pair();
    expect(await state.acquireLease('contested', 'me', 300)).toBe(true);
    await cut(state);
    // This instance renews in memory; Redis lets the lease lapse and another instance takes it.
    expect(await state.renewLease('contested', 'me', 60_000)).toBe(true);
    await eventually(async () => ((await direct.acquireLease('contested', 'other', 60_000)) ? true : undefined));
    await restore(state);
    expect(await direct.leaseOwner('contested')).toBe('other');
    expect(await state.leaseOwner('contested')).toBe('other');
    expect(await state.renewLease('contested', 'me', 60_000)).toBe(false);
  });

  describe('when Redis stops answering without closing the connection', () => {
    let stalling: StallingProxy;
    beforeAll(async () => {
      stalling = await startStallingProxy({ host: '127.0.0.1', port: 6379 });
    });
    afterAll(() => stalling.close());

    it('waits at most about a second once, serves from memory, and is back within a second of Redis answering', async () => {
      const state = redis.make(testPrefix(), { redisUrl: `redis://127.0.0.1:${stalling.port}/0` });
      opened.push(state);
      expect((await state.hit('k', 10, 60_000)).count).toBe(1);
      stalling.stall();
      const firstCall = await timed(async () => expect((await state.hit('k', 10, 60_000)).count).toBe(1));
      expect(firstCall).toBeGreaterThanOrEqual(900);
      expect(firstCall).toBeLessThan(3000);
      expect(state.isDegraded()).toBe(true);
      // Later calls do not wait on the stalled connection at all (one that did would take its 1 s limit).
      expect(await timed(() => state.hit('k', 10, 60_000))).toBeLessThan(900);

      stalling.flow();
      const flowingAt = Date.now();
      await eventually(async () => (state.isDegraded() ? undefined : true), 10_000);
      expect(Date.now() - flowingAt).toBeLessThan(1000);
    });
  });
});
