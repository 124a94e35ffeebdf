import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { SecretBox } from './crypto/secret-box.js';
import type { Db } from './db/connect.js';
import type { SharedState } from './shared/shared-state.js';
import type { ObjectStorage } from './storage/object-storage.js';
import type { Metrics } from './telemetry/metrics.js';

/** Source of time, injectable so tests can control it. */
export interface Clock {
  now(): number;
}

/** Process-wide lifecycle flags read by readiness and the drain logic. */
export interface Lifecycle {
  isDraining: boolean;
  isMigrated: boolean;
  /** Work that must finish before the process exits (detached generations, background titles). */
  track<T>(work: Promise<T>): Promise<T>;
  /** Resolves when all tracked work has settled. */
  settled(): Promise<void>;
}

/** The infrastructure adapters every feature service is built from. */
export interface Platform {
  config: Config;
  db: Db;
  shared: SharedState;
  storage: ObjectStorage;
  log: Logger;
  metrics: Metrics;
  clock: Clock;
  lifecycle: Lifecycle;
  /** Seals secrets before they are stored and opens them when read (the environment's encryption key). */
  secrets: SecretBox;
}

/** Creates the lifecycle tracker. */
export function createLifecycle(): Lifecycle {
  // A count and shared callbacks, not a set of promises: no closures per tracked piece of work
  // (one per held stream).
  let pending = 0;
  const waiters: (() => void)[] = [];
  const settle = () => {
    if (--pending === 0) for (const wake of waiters.splice(0)) wake();
  };
  return {
    isDraining: false,
    isMigrated: false,
    track(work) {
      pending += 1;
      work.then(settle, settle);
      return work;
    },
    settled() {
      return pending === 0 ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}
