import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually } from './support/streams.js';
import { inbox, redisStates, sleep, testPrefix, testRedisUrl as redisUrl } from './support/shared-state.js';
import { createSharedState } from '../src/platform/shared/create-shared-state.js';
import { SharedStateUnavailableError } from '../src/platform/shared/errors.js';
import { MemorySharedState } from '../src/platform/shared/memory-state.js';
import { redisOptionsFor } from '../src/platform/shared/redis-connection.js';
import type { SharedState } from '../src/platform/shared/shared-state.js';
import { compareStreamIds, isStreamId } from '../src/platform/shared/stream-log.js';

// One contract, both implementations: what a feature sees must not depend on which it got.
// Shared state does not touch the database, so the suite runs in one database project only.
const redis = redisStates();

const implementations = [
  { name: 'memory', make: () => createSharedState({}) },
  { name: 'redis', make: () => redis.make(testPrefix()) },
];

describe.skipIf(process.env.PARLEY_TEST_DB === 'postgres')('shared state', () => {
  afterAll(() => redis.cleanUp());

  it('builds the in-process implementation without Redis settings', async () => {
    const state = createSharedState({ sentinelHosts: [' '] });
    expect(state).toBeInstanceOf(MemorySharedState);
    await state.close();
  });

  it('finds Redis through Sentinel the way Open WebUI does: the URL names the master and carries credentials', () => {
    const { url, options } = redisOptionsFor({
      redisUrl: 'redis://user:p%40ss@primary-set:6379/2',
      sentinelHosts: ['sentinel-a', ' sentinel-b:26380 ', ''],
      sentinelPort: 5000,
    });
    expect(url).toBeUndefined();
    expect(options).toMatchObject({
      sentinels: [
        { host: 'sentinel-a', port: 5000 },
        { host: 'sentinel-b', port: 26380 },
      ],
      name: 'primary-set',
      username: 'user',
      password: 'p@ss',
      db: 2,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    });
    expect(redisOptionsFor({ sentinelHosts: ['s'], sentinelMasterName: 'named' }).options).toMatchObject({
      name: 'named',
      sentinels: [{ host: 's', port: 26379 }],
    });
    expect(redisOptionsFor({ sentinelHosts: ['s'] }).options.name).toBe('mymaster');
    expect(redisOptionsFor({ redisUrl }).url).toBe(redisUrl);
  });

  describe.each(implementations)('contract: $name', ({ make }) => {
    let state: SharedState;
    beforeEach(() => {
      state = make();
    });
    afterEach(async () => {
      await state.close();
    });

    it('admits exactly the limit under concurrent hits, and peeks and resets', async () => {
      const results = await Promise.all(Array.from({ length: 50 }, () => state.hit('burst', 20, 60_000)));
      expect(results.filter((result) => result.allowed)).toHaveLength(20);
      expect(results.map((result) => result.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
      expect(results.every((result) => result.retryAfterMs > 0 && result.retryAfterMs <= 60_000)).toBe(true);
      expect(await state.peek('burst')).toBe(50);
      expect(await state.peek('other')).toBe(0);
      await state.reset('burst');
      expect(await state.peek('burst')).toBe(0);
      expect((await state.hit('burst', 20, 60_000)).count).toBe(1);
    });

    it('starts a new window once the old one ends', async () => {
      const first = await state.hit('window', 1, 200);
      expect(first).toMatchObject({ allowed: true, count: 1 });
      expect(first.retryAfterMs).toBeGreaterThan(0);
      expect(first.retryAfterMs).toBeLessThanOrEqual(200);
      expect(await state.hit('window', 1, 200)).toMatchObject({ allowed: false, count: 2 });
      await sleep(260);
      expect(await state.peek('window')).toBe(0);
      expect(await state.hit('window', 1, 200)).toMatchObject({ allowed: true, count: 1 });
    });

    it('caches JSON copies until their TTL, and deletes them', async () => {
      const value = { models: [{ id: 'a', size: 1 }], isFresh: true };
      await state.setCached('catalog', value, 200);
      const cached = await state.getCached<typeof value>('catalog');
      expect(cached).toEqual(value);
      cached!.models.push({ id: 'b', size: 2 });
      expect(await state.getCached('catalog')).toEqual(value);
      await state.setCached('gone', 1, 60_000);
      await state.deleteCached('gone');
      expect(await state.getCached('gone')).toBeUndefined();
      await expect(state.setCached('bad', undefined, 1000)).rejects.toThrow(TypeError);
      await sleep(260);
      expect(await state.getCached('catalog')).toBeUndefined();
    });

    it('delivers a message to every subscriber of its channel until they unsubscribe', async () => {
      const [first, second, elsewhere] = [inbox(), inbox(), inbox()];
      const unsubscribeFirst = await state.subscribe('events', first.handler);
      await state.subscribe('events', second.handler);
      await state.subscribe('events', () => {
        throw new Error('a broken handler must not stop the others');
      });
      await state.subscribe('other', elsewhere.handler);
      await state.publish('events', 'hello');
      await eventually(async () => (first.messages.length && second.messages.length ? true : undefined), 2000);
      expect(first.messages).toEqual(['hello']);
      expect(second.messages).toEqual(['hello']);
      await unsubscribeFirst();
      await unsubscribeFirst();
      await state.publish('events', 'again');
      // Messages arrive in order, so once the second sees 'again' the first would have too.
      await eventually(async () => (second.messages.length === 2 ? true : undefined), 2000);
      expect(first.messages).toEqual(['hello']);
      expect(second.messages).toEqual(['hello', 'again']);
      // Published last, a sentinel on the other channel arrives after anything misdelivered there would have.
      await state.publish('other', 'sentinel');
      await eventually(async () => (elsewhere.messages.length ? true : undefined), 2000);
      expect(elsewhere.messages).toEqual(['sentinel']);
    });

    it('gives a lease to one owner at a time, renewed and released only by that owner', async () => {
      expect(await state.acquireLease('generation', 'a', 5000)).toBe(true);
      expect(await state.acquireLease('generation', 'b', 5000)).toBe(false);
      expect(await state.acquireLease('generation', 'a', 5000)).toBe(false);
      expect(await state.leaseOwner('generation')).toBe('a');
      expect(await state.renewLease('generation', 'b', 5000)).toBe(false);
      expect(await state.renewLease('generation', 'a', 5000)).toBe(true);
      expect(await state.releaseLease('generation', 'b')).toBe(false);
      expect(await state.leaseOwner('generation')).toBe('a');
      expect(await state.releaseLease('generation', 'a')).toBe(true);
      expect(await state.leaseOwner('generation')).toBeNull();
      expect(await state.acquireLease('generation', 'b', 5000)).toBe(true);
    });

    it('lets a lease lapse when its owner stops renewing it', async () => {
      expect(await state.acquireLease('lapsing', 'a', 150)).toBe(true);
      expect(await state.renewLease('lapsing', 'a', 150)).toBe(true);
      await sleep(250);
      expect(await state.leaseOwner('lapsing')).toBeNull();
      expect(await state.renewLease('lapsing', 'a', 150)).toBe(false);
      expect(await state.acquireLease('lapsing', 'c', 5000)).toBe(true);
      expect(await state.leaseOwner('lapsing')).toBe('c');
    });

    it('appends stream entries and reads them from the start, after an id, and by count', async () => {
      const ids: string[] = [];
      for (const text of ['one', 'two', 'three']) ids.push(await state.appendToStream('chunks', { text, index: String(ids.length) }));
      expect(ids.every(isStreamId)).toBe(true);
      expect(compareStreamIds(ids[0]!, ids[1]!)).toBeLessThan(0);
      expect(compareStreamIds(ids[1]!, ids[2]!)).toBeLessThan(0);
      expect(await state.readStream('chunks', null)).toEqual([
        { id: ids[0], fields: { text: 'one', index: '0' } },
        { id: ids[1], fields: { text: 'two', index: '1' } },
        { id: ids[2], fields: { text: 'three', index: '2' } },
      ]);
      expect((await state.readStream('chunks', ids[0]!)).map((entry) => entry.id)).toEqual([ids[1], ids[2]]);
      expect((await state.readStream('chunks', ids[0]!, { count: 1 })).map((entry) => entry.id)).toEqual([ids[1]]);
      expect(await state.readStream('chunks', ids[2]!)).toEqual([]);
      expect(await state.readStream('nothing-here', null)).toEqual([]);
      await expect(state.readStream('chunks', 'not-an-id')).rejects.toThrow(RangeError);
      await expect(state.appendToStream('chunks', {})).rejects.toThrow(RangeError);
      await state.deleteStream('chunks');
      expect(await state.readStream('chunks', null)).toEqual([]);
    });

    it('wakes blocked readers on append, and returns nothing after blockMs without one', async () => {
      const last = await state.appendToStream('live', { text: 'before' });
      const readers = Array.from({ length: 5 }, () => state.readStream('live', last, { blockMs: 3000 }));
      const fromStart = state.readStream('empty-yet', null, { blockMs: 3000 });
      await sleep(50);
      const appendedAt = Date.now();
      const id = await state.appendToStream('live', { text: 'after' });
      await state.appendToStream('empty-yet', { text: 'first' });
      for (const entries of await Promise.all(readers)) expect(entries).toEqual([{ id, fields: { text: 'after' } }]);
      expect(Date.now() - appendedAt).toBeLessThan(150);
      expect((await fromStart).map((entry) => entry.fields.text)).toEqual(['first']);

      const started = Date.now();
      expect(await state.readStream('live', id, { blockMs: 200 })).toEqual([]);
      expect(Date.now() - started).toBeGreaterThanOrEqual(180);
      expect(Date.now() - started).toBeLessThan(1000);
    });

    it('expires a stream after its TTL and trims it to about maxLength', async () => {
      await state.appendToStream('short-lived', { text: 'a' }, { ttlMs: 200 });
      expect(await state.readStream('short-lived', null)).toHaveLength(1);
      await sleep(300);
      expect(await state.readStream('short-lived', null)).toEqual([]);

      let newest = '';
      for (let index = 0; index < 1000; index += 1) newest = await state.appendToStream('long', { index: String(index) }, { maxLength: 100 });
      const kept = await state.readStream('long', null);
      expect(kept.length).toBeGreaterThanOrEqual(100);
      expect(kept.length).toBeLessThan(300);
      expect(kept.at(-1)!.id).toBe(newest);
    });

    it('answers ping, and after close rejects everything, blocked reads included', async () => {
      await state.ping();
      // Caught at once: the rejection may come while close() is still under way.
      const blocked = state.readStream('waiting', null, { blockMs: 5000 }).catch((error: unknown) => error);
      await sleep(50);
      await state.close();
      expect(await blocked).toBeInstanceOf(SharedStateUnavailableError);
      await expect(state.hit('x', 1, 1000)).rejects.toThrow(SharedStateUnavailableError);
      await expect(state.getCached('x')).rejects.toThrow(SharedStateUnavailableError);
      await expect(state.subscribe('x', () => undefined)).rejects.toThrow(SharedStateUnavailableError);
      await expect(state.readStream('x', null, { blockMs: 100 })).rejects.toThrow(SharedStateUnavailableError);
      await expect(state.ping()).rejects.toThrow(SharedStateUnavailableError);
      await state.close();
    });

    it('keeps counters, cache, leases and streams apart under the same key', async () => {
      await state.hit('same', 5, 60_000);
      await state.setCached('same', 'cached', 60_000);
      await state.acquireLease('same', 'owner', 60_000);
      await state.appendToStream('same', { text: 'entry' });
      expect(await state.peek('same')).toBe(1);
      expect(await state.getCached('same')).toBe('cached');
      expect(await state.leaseOwner('same')).toBe('owner');
      expect(await state.readStream('same', null)).toHaveLength(1);
    });
  });
});
