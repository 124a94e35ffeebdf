import type { Logger } from 'pino';
import { isSharedStateUnavailable } from './errors.js';
import type { MemorySharedState } from './memory-state.js';
import type { MessageHandler } from './pub-sub.js';
import type { RedisSharedState } from './redis-state.js';
import type { AppendOptions } from './stream-log.js';

/** A subscription of the resilient state: always in memory, on Redis once it could be made there. */
export interface FallbackSubscription {
  channel: string;
  handler: MessageHandler;
  offRedis?: () => Promise<void>;
  isActive: boolean;
}

/** What changed in memory while Redis was away, beyond what memory itself holds, to replay on its return. */
export class FallbackChanges {
  /** Cache keys set or deleted: memory holds their current value (or their absence). */
  readonly cacheKeys = new Set<string>();
  readonly counterResets = new Set<string>();
  /** Leases taken in memory since the last hand-over (every live one is handed over on each return). */
  readonly leases = new Set<string>();
  readonly releasedLeases = new Map<string, string>();
  readonly deletedStreams = new Set<string>();
  /** The options of each stream's latest append, for its entries' hand-over. */
  readonly streamOptions = new Map<string, AppendOptions>();

  isEmpty(local: MemorySharedState): boolean {
    return (
      this.cacheKeys.size === 0 &&
      this.counterResets.size === 0 &&
      this.leases.size === 0 &&
      this.releasedLeases.size === 0 &&
      this.deletedStreams.size === 0 &&
      local.liveWindows().length === 0 &&
      local.streamLogs.keys().length === 0
    );
  }
}

/** Counts of what one hand-over gave Redis, for the log. */
export interface HandedOver {
  leases: number;
  lostLeases: number;
  cacheKeys: number;
  counters: number;
  streamEntries: number;
}

// Rounds handed over while the instance keeps writing to memory; after these, its writes wait for the last one.
const openRounds = 3;

/** How the hand-over tells the resilient state what to do with the instance's own operations. */
export interface HandOverControl {
  /** From now until `flip` (or the hand-over's failure), operations wait instead of writing to memory. */
  hold(): void;
  /** Redis serves again; runs in the tick the hand-over found nothing left in memory. */
  flip(): void;
}

/**
 * Gives Redis, back after an outage, what this instance did meanwhile in memory: subscriptions,
 * the leases it holds, cache writes, counted events and appended stream entries, in that order.
 * Rounds repeat while the instance keeps writing to memory; a busy instance could keep that up for
 * ever, so after a few rounds its operations are held for the last one (a few ms). `flip` runs in the
 * same tick as the round that finds nothing left, so no write lands in memory after its hand-over, and
 * a stream's entries reach Redis in the order they were appended. Rejects (leaving what is not handed
 * over in memory) when Redis fails again; a value Redis refuses outright is logged and dropped.
 */
export async function handOver(
  redis: RedisSharedState,
  local: MemorySharedState,
  changes: FallbackChanges,
  subscriptions: Iterable<FallbackSubscription>,
  log: Logger,
  control: HandOverControl,
): Promise<HandedOver> {
  const counts: HandedOver = { leases: 0, lostLeases: 0, cacheKeys: 0, counters: 0, streamEntries: 0 };
  await redis.ping();
  // Every lease held here, first: the ones Redis let lapse meanwhile, and those it lost in a restart.
  for (const lease of local.liveLeases()) await tolerate(() => restoreLease(lease));
  changes.leases.clear();
  const unsubscribed = () => [...subscriptions].filter((subscription) => subscription.isActive && !subscription.offRedis);
  for (let round = 1; ; round++) {
    if (round > openRounds) control.hold();
    if (unsubscribed().length === 0 && changes.isEmpty(local)) {
      await redis.subscriptionsReady();
      // Checked again: the wait above gave the instance time to write to memory and to subscribe.
      if (unsubscribed().length === 0 && changes.isEmpty(local)) {
        control.flip();
        return counts;
      }
    }
    for (const subscription of unsubscribed()) {
      subscription.offRedis = await redis.subscribe(subscription.channel, subscription.handler);
      if (!subscription.isActive) await subscription.offRedis();
    }
    for (const [key, owner] of [...changes.releasedLeases]) {
      changes.releasedLeases.delete(key);
      await tolerate(
        () => redis.releaseLease(key, owner),
        () => {
          if (!changes.releasedLeases.has(key)) changes.releasedLeases.set(key, owner);
        },
      );
    }
    await drain(changes.leases, async (key) => {
      const lease = local.liveLeases().find((each) => each.key === key);
      if (lease) await restoreLease(lease);
    });
    await drain(changes.cacheKeys, async (key) => {
      const entry = local.cachedEntry(key);
      await (entry ? redis.restoreCached(key, entry.json, entry.ttlMs) : redis.deleteCached(key));
      counts.cacheKeys += 1;
    });
    await drain(changes.counterResets, (key) => redis.reset(key));
    for (const window of local.liveWindows()) {
      await tolerate(() => redis.addToWindow(window.key, window.count, window.ttlMs));
      local.subtractFromWindow(window.key, window.count);
      counts.counters += 1;
    }
    await drain(changes.deletedStreams, (key) => redis.deleteStream(key));
    for (const key of local.streamLogs.keys()) {
      const { entries, ttlMs } = local.streamLogs.snapshot(key);
      if (entries.length === 0) continue;
      const options = { ...changes.streamOptions.get(key), ...(ttlMs === undefined ? {} : { ttlMs }) };
      await tolerate(() => redis.restoreStream(key, entries, options));
      local.streamLogs.discardThrough(key, entries.at(-1)!.id);
      counts.streamEntries += entries.length;
    }
  }

  async function restoreLease(lease: { key: string; owner: string; ttlMs: number }): Promise<void> {
    if (await redis.restoreLease(lease.key, lease.owner, lease.ttlMs)) {
      counts.leases += 1;
      return;
    }
    // Another instance took it while this one could not renew it (it could reach Redis, this one not).
    local.forgetLease(lease.key, lease.owner);
    counts.lostLeases += 1;
    log.warn({ lease: lease.key }, 'a lease held through the Redis outage had been taken by another instance');
  }

  /**
   * Hands each key of a set over, removing it first so that a write to memory meanwhile marks it
   * again; one that fails with an outage goes back, and the hand-over stops.
   */
  async function drain<K>(keys: Set<K>, write: (key: K) => Promise<unknown>): Promise<void> {
    for (const key of [...keys]) {
      keys.delete(key);
      await tolerate(() => write(key), () => keys.add(key));
    }
  }

  /** Runs one hand-over write; an outage rejects the whole hand-over (after `undo`), any other refusal drops the value. */
  async function tolerate(write: () => Promise<unknown>, undo?: () => void): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (isSharedStateUnavailable(error)) {
        undo?.();
        throw error;
      }
      log.warn({ err: error }, 'Redis refused a value kept in memory during its outage; dropped');
    }
  }
}
