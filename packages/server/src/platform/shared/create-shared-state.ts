import type { Logger } from 'pino';
import { MemorySharedState } from './memory-state.js';
import { RedisSharedState } from './redis-state.js';
import { ResilientSharedState } from './resilient-state.js';
import type { SharedState } from './shared-state.js';

/** How to build the SharedState: in-process unless a Redis URL or Sentinels are given. */
export interface SharedStateOptions {
  /** `redis://[user:password@]host:port/db` (or `rediss://`). With Sentinel, its host names the master, as in Open WebUI. */
  redisUrl?: string;
  /** Sentinel hosts (`host` or `host:port`); when given, Redis is found through them. */
  sentinelHosts?: string[];
  /** Port for Sentinel hosts that do not name one. Default 26379. */
  sentinelPort?: number;
  /** The Sentinel master name. Default: the host of `redisUrl`, else `mymaster`. */
  sentinelMasterName?: string;
  /** Put before every Redis key and channel. Default `parley:`. */
  keyPrefix?: string;
  /** Clock for the in-process implementation's expiry (Redis expires on its own clock). */
  now?: () => number;
  log?: Logger;
}

/**
 * Builds the SharedState the configuration asks for: in-process for one instance; for a cluster,
 * Redis with this process's memory as the fallback while Redis is unreachable (ResilientSharedState).
 */
export function createSharedState(options: SharedStateOptions): SharedState {
  const isRedis = Boolean(options.redisUrl) || (options.sentinelHosts ?? []).some((host) => host.trim() !== '');
  const log = options.log?.child({ module: 'shared-state' });
  if (!isRedis) return new MemorySharedState(options.now, log);
  const redis = new RedisSharedState({
    redisUrl: options.redisUrl,
    sentinelHosts: options.sentinelHosts,
    sentinelPort: options.sentinelPort,
    sentinelMasterName: options.sentinelMasterName,
    keyPrefix: options.keyPrefix,
    log,
  });
  // The fallback keeps time by the wall clock as Redis does, not by a test's injected clock.
  return new ResilientSharedState(redis, new MemorySharedState(Date.now, log), { log });
}
