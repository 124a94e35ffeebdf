import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createSharedState, type SharedStateOptions } from '../../src/platform/shared/create-shared-state.js';
import { RedisSharedState, type RedisSharedStateOptions } from '../../src/platform/shared/redis-state.js';
import type { SharedState } from '../../src/platform/shared/shared-state.js';

/** The test Redis (database 0; every test keeps to its own random key prefix). */
export const testRedisUrl = 'redis://127.0.0.1:6379/0';

/** A key prefix no other test or run shares. */
export const testPrefix = () => `parley-test:${randomUUID()}:`;

/** Hands out Redis-backed SharedStates and deletes every key they made when done. */
export function redisStates() {
  const prefixes = new Set<string>();
  let admin: Redis | undefined;
  return {
    /** A SharedState on the test Redis under `prefix`, as the app builds it (falling back to memory in an outage). */
    make(prefix: string, options: SharedStateOptions = {}): SharedState {
      prefixes.add(prefix);
      return createSharedState({ redisUrl: testRedisUrl, keyPrefix: prefix, ...options });
    },
    /** Redis alone under `prefix`, without the fallback: every operation rejects while Redis is unreachable. */
    makeRedisOnly(prefix: string, options: RedisSharedStateOptions = {}): RedisSharedState {
      prefixes.add(prefix);
      return new RedisSharedState({ redisUrl: testRedisUrl, keyPrefix: prefix, ...options });
    },
    /** A plain client, to look behind the abstraction. */
    admin(): Redis {
      return (admin ??= new Redis(testRedisUrl));
    },
    /** Notes a prefix used outside make(), so cleanUp deletes its keys too. */
    track(prefix: string): void {
      prefixes.add(prefix);
    },
    async cleanUp(): Promise<void> {
      const client = this.admin();
      for (const prefix of prefixes) {
        let cursor = '0';
        do {
          const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
          if (keys.length > 0) await client.del(...keys);
          cursor = next;
        } while (cursor !== '0');
      }
      await client.quit();
    },
  };
}

/** Collects the messages a handler receives. */
export function inbox() {
  const messages: string[] = [];
  return { messages, handler: (message: string) => void messages.push(message) };
}

/** Waits `ms` of real time. */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
