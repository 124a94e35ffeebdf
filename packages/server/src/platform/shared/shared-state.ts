import type { Cache } from './cache.js';
import type { Counters } from './counters.js';
import type { Leases } from './leases.js';
import type { PubSub } from './pub-sub.js';
import type { StreamLog } from './stream-log.js';

export type { RateLimitResult, Counters } from './counters.js';
export type { Cache } from './cache.js';
export type { MessageHandler, PubSub } from './pub-sub.js';
export type { Leases } from './leases.js';
export type { AppendOptions, ReadOptions, StreamEntry, StreamLog } from './stream-log.js';

/**
 * State every instance must agree on: counters, caches, broadcasts, leases and
 * stream logs. The embedded implementation keeps it in this process; the scaled
 * one lives in Redis, and while Redis is unreachable falls back to this process
 * (see ResilientSharedState and isDegraded). Operations reject with
 * SharedStateUnavailableError when they cannot be answered (after close(), and
 * for what only Redis knows while it is unreachable).
 */
export interface SharedState extends Counters, Cache, PubSub, Leases, StreamLog {
  /** Resolves when the backing store answers; rejects with SharedStateUnavailableError otherwise (dependency health). */
  ping(): Promise<void>;
  /**
   * True while this instance serves shared state from its own memory because Redis is unreachable:
   * limits count per instance, messages reach only this instance, and stream logs cannot be read.
   */
  isDegraded(): boolean;
  /** Releases connections, timers and subscriptions; blocked reads reject. Idempotent. */
  close(): Promise<void>;
}
