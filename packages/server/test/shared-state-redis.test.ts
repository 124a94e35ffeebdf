import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './support/streams.js';
import { inbox, redisStates, sleep, testPrefix, testRedisUrl as redisUrl } from './support/shared-state.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { SharedStateUnavailableError } from '../src/platform/shared/errors.js';
import { closedPort } from './support/ports.js';

// What only the Redis implementation can show: instances sharing state, outages, and a clean exit.
const redis = redisStates();

describe.skipIf(process.env.PARLEY_TEST_DB === 'postgres')('shared state on Redis', () => {
  afterAll(() => redis.cleanUp());

  it('shares counters, cache, leases, messages and streams between instances', async () => {
    const prefix = testPrefix();
    const [a, b, elsewhere] = [redis.make(prefix), redis.make(prefix), redis.make(testPrefix())];
    try {
      const hits = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).hit('cluster', 20, 60_000)));
      expect(hits.filter((hit) => hit.allowed)).toHaveLength(20);
      expect(await elsewhere.peek('cluster')).toBe(0);

      await a.setCached('models', ['m1'], 60_000);
      expect(await b.getCached('models')).toEqual(['m1']);
      expect(await elsewhere.getCached('models')).toBeUndefined();
      await b.deleteCached('models');
      expect(await a.getCached('models')).toBeUndefined();

      expect(await a.acquireLease('generation', 'instance-a', 5000)).toBe(true);
      expect(await b.acquireLease('generation', 'instance-b', 5000)).toBe(false);
      expect(await b.leaseOwner('generation')).toBe('instance-a');

      const [onA, onElsewhere] = [inbox(), inbox()];
      await a.subscribe('config', onA.handler);
      await elsewhere.subscribe('config', onElsewhere.handler);
      await b.publish('config', 'changed');
      await eventually(async () => (onA.messages.length ? true : undefined), 2000);
      expect(onA.messages).toEqual(['changed']);

      const following = a.readStream('generation', null, { blockMs: 3000 });
      await sleep(50);
      const id = await b.appendToStream('generation', { text: 'chunk' }, { ttlMs: 60_000 });
      expect(await following).toEqual([{ id, fields: { text: 'chunk' } }]);
      // Published after b's message, a sentinel arrives after it would have: then its absence means something.
      await elsewhere.publish('config', 'sentinel');
      await eventually(async () => (onElsewhere.messages.length ? true : undefined), 2000);
      expect(onElsewhere.messages).toEqual(['sentinel']);

      const keys = (await redis.admin().keys(`${prefix}*`)).sort();
      expect(keys).toEqual([`${prefix}lease:generation`, `${prefix}rate:cluster`, `${prefix}stream:generation`]);
      expect(await redis.admin().pttl(`${prefix}stream:generation`)).toBeGreaterThan(50_000);
    } finally {
      await Promise.all([a.close(), b.close(), elsewhere.close()]);
    }
  });

  it('fails fast with SharedStateUnavailableError when Redis cannot be reached (without the fallback)', async () => {
    const port = await closedPort();
    const state = redis.makeRedisOnly(testPrefix(), { redisUrl: `redis://127.0.0.1:${port}/0` });
    try {
      const attempts: Array<() => Promise<unknown>> = [
        () => state.ping(),
        () => state.hit('x', 1, 1000),
        () => state.peek('x'),
        () => state.getCached('x'),
        () => state.setCached('x', 1, 1000),
        () => state.publish('x', 'm'),
        () => state.subscribe('x', () => undefined),
        () => state.acquireLease('x', 'o', 1000),
        () => state.renewLease('x', 'o', 1000),
        () => state.appendToStream('x', { a: 'b' }),
        () => state.readStream('x', null),
        () => state.readStream('x', null, { blockMs: 5000 }),
      ];
      for (const attempt of attempts) {
        const started = Date.now();
        await expect(attempt()).rejects.toThrow(SharedStateUnavailableError);
        expect(Date.now() - started).toBeLessThan(2000);
      }
    } finally {
      await state.close();
    }
  });

  describe('through a proxy that can be cut', () => {
    let proxy: TcpProxy;
    beforeAll(async () => {
      proxy = await startTcpProxy({ host: '127.0.0.1', port: 6379 });
    });
    afterAll(async () => {
      await proxy.close();
    });

    it('rejects during an outage (without the fallback), then recovers by itself with subscriptions intact', async () => {
      const prefix = testPrefix();
      const state = redis.makeRedisOnly(prefix, { redisUrl: `redis://127.0.0.1:${proxy.port}/0` });
      const direct = redis.make(prefix);
      try {
        const received = inbox();
        await state.subscribe('events', received.handler);
        expect((await state.hit('count', 10, 60_000)).count).toBe(1);
        const blocked = state.readStream('waiting', null, { blockMs: 5000 }).catch((error: unknown) => error);
        await sleep(50);

        await proxy.cut();
        expect(await blocked).toBeInstanceOf(SharedStateUnavailableError);
        for (const attempt of [() => state.ping(), () => state.hit('count', 10, 60_000), () => state.readStream('waiting', null, { blockMs: 1000 })]) {
          const started = Date.now();
          await expect(attempt()).rejects.toThrow(SharedStateUnavailableError);
          expect(Date.now() - started).toBeLessThan(2000);
        }

        await proxy.restore();
        await eventually(() => state.ping().then(() => true, () => undefined), 10_000);
        expect((await state.hit('count', 10, 60_000)).count).toBe(2);
        // The subscriber connection came back and resubscribed on its own.
        await eventually(async () => {
          await direct.publish('events', 'after the outage');
          return received.messages.includes('after the outage') ? true : undefined;
        }, 10_000);
        const id = await direct.appendToStream('waiting', { text: 'back' });
        expect(await state.readStream('waiting', null, { blockMs: 1000 })).toEqual([{ id, fields: { text: 'back' } }]);
      } finally {
        await Promise.all([state.close(), direct.close()]);
      }
    });
  });

  it('lets the process exit after close: no connection, timer or subscription is left open', async () => {
    const prefix = testPrefix();
    redis.track(prefix);
    const module = path.resolve(import.meta.dirname, '../src/platform/shared/create-shared-state.ts');
    const script = `
      const { createSharedState } = await import(${JSON.stringify(module)});
      const state = createSharedState({ redisUrl: ${JSON.stringify(redisUrl)}, keyPrefix: ${JSON.stringify(prefix)} });
      await state.hit('k', 1, 60000);
      const unsubscribe = await state.subscribe('c', () => {});
      await state.subscribe('d', () => {});
      await unsubscribe();
      const blocked = state.readStream('s', null, { blockMs: 10000 }).catch(() => 'rejected');
      await state.readStream('t', null, { blockMs: 50 });
      await new Promise((resolve) => setTimeout(resolve, 50));
      await state.close();
      console.log('closed', await blocked);`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let closedAt = 0;
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('closed')) closedAt ||= Date.now();
    });
    child.stderr.on('data', (chunk) => (output += chunk));
    const exitCode = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(-1);
      }, 8000);
      child.on('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
    });
    expect(output.trim()).toBe('closed rejected');
    expect(exitCode).toBe(0);
    // Anything left open (a socket, a reconnect or disconnect timer) would hold the process for seconds.
    expect(Date.now() - closedAt).toBeLessThan(1000);
  });
});
