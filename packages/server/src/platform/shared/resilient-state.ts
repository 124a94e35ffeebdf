import { pino, type Logger } from 'pino';
import { closedError, isSharedStateUnavailable, SharedStateUnavailableError } from './errors.js';
import { FallbackChanges, handOver, type FallbackSubscription } from './fallback-handover.js';
import type { MemorySharedState } from './memory-state.js';
import type { MessageHandler } from './pub-sub.js';
import type { RedisSharedState } from './redis-state.js';
import type { RateLimitResult, SharedState } from './shared-state.js';
import { assertStreamId, type AppendOptions, type ReadOptions, type StreamEntry } from './stream-log.js';

/** Options for the resilient SharedState. */
export interface ResilientSharedStateOptions {
  log?: Logger;
  /** How often to look for Redis' return while serving from memory (besides its connection's ready event). */
  probeIntervalMs?: number;
}

/** A stream append sent to Redis and not answered yet; `copy` is its append to memory if Redis went away meanwhile. */
interface AppendInFlight {
  key: string;
  fields: Record<string, string>;
  options: AppendOptions;
  copy?: Promise<string>;
}

const unknownWhileDown = (what: string) => new SharedStateUnavailableError(`Redis is unreachable: ${what} cannot be known until it returns`);

/**
 * SharedState on Redis that keeps working while Redis is unreachable. Healthy, every operation goes to
 * Redis (leases this instance holds are also noted in memory). On the first sign of an outage (the
 * connection closing, or a call failing or timing out: see commandTimeoutMs) it serves from an
 * in-process MemorySharedState instead, without asking Redis at all: rate limits count per instance,
 * messages reach this instance's subscribers, leases and caches are this instance's, stream logs are
 * written here, and what only Redis knows (a lease held elsewhere, a stream's entries, a `strict`
 * cache read this instance did not write) rejects with SharedStateUnavailableError. When Redis answers
 * again, what was done meanwhile is handed over to it (fallback-handover.ts) before it serves again.
 */
export class ResilientSharedState implements SharedState {
  private isUp = true;
  private isClosed = false;
  private downSince = 0;
  private probe: NodeJS.Timeout | undefined;
  private recovery: Promise<void> | undefined;
  /** Set while the last round of a hand-over runs: operations wait for it (see handOver). */
  private gate: { isOpen: Promise<void>; open: () => void } | undefined;
  private readonly changes = new FallbackChanges();
  private readonly subscriptions = new Set<FallbackSubscription>();
  private readonly appendsInFlight = new Set<AppendInFlight>();
  private readonly log: Logger;
  private readonly probeIntervalMs: number;

  constructor(
    private readonly redis: RedisSharedState,
    private readonly local: MemorySharedState,
    options: ResilientSharedStateOptions = {},
  ) {
    this.log = options.log ?? pino({ enabled: false });
    this.probeIntervalMs = options.probeIntervalMs ?? 200;
    redis.onConnectionChange((isUp) => (isUp ? this.recover() : this.markDown('connection closed')));
  }

  hit(key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    return this.route(
      () => this.redis.hit(key, limit, windowMs),
      () => this.local.hit(key, limit, windowMs),
    );
  }

  peek(key: string): Promise<number> {
    return this.route(
      () => this.redis.peek(key),
      () => this.local.peek(key),
    );
  }

  reset(key: string): Promise<void> {
    return this.route(
      () => this.redis.reset(key),
      async () => {
        await this.local.reset(key);
        this.changes.counterResets.add(key);
      },
    );
  }

  getCached<T>(key: string, options: { strict?: boolean } = {}): Promise<T | undefined> {
    return this.route(
      () => this.redis.getCached<T>(key),
      async () => {
        const value = await this.local.getCached<T>(key);
        if (value === undefined && options.strict && !this.changes.cacheKeys.has(key)) throw unknownWhileDown('this value');
        return value;
      },
    );
  }

  setCached<T>(key: string, value: T, ttlMs: number): Promise<void> {
    return this.route(
      () => this.redis.setCached(key, value, ttlMs),
      async () => {
        await this.local.setCached(key, value, ttlMs);
        this.changes.cacheKeys.add(key);
      },
    );
  }

  deleteCached(key: string): Promise<void> {
    return this.route(
      () => this.redis.deleteCached(key),
      async () => {
        await this.local.deleteCached(key);
        this.changes.cacheKeys.add(key);
      },
    );
  }

  publish(channel: string, message: string): Promise<void> {
    return this.route(
      () => this.redis.publish(channel, message),
      () => this.local.publish(channel, message),
    );
  }

  /** Subscribes in memory (what this instance publishes during an outage) and on Redis, now or once it is back. */
  async subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>> {
    if (this.gate) await this.gate.isOpen;
    if (this.isClosed) throw closedError();
    const offLocal = await this.local.subscribe(channel, handler);
    const subscription: FallbackSubscription = { channel, handler, isActive: true };
    this.subscriptions.add(subscription);
    if (this.isUp) {
      try {
        const offRedis = await this.redis.subscribe(channel, handler);
        // A hand-over that ran meanwhile (an outage came and went) may have subscribed it already.
        if (subscription.offRedis) await offRedis();
        else subscription.offRedis = offRedis;
      } catch (error) {
        if (this.isClosed || !isSharedStateUnavailable(error)) {
          this.subscriptions.delete(subscription);
          await offLocal();
          throw error;
        }
        this.markDown(error);
      }
    }
    return async () => {
      if (!subscription.isActive) return;
      subscription.isActive = false;
      this.subscriptions.delete(subscription);
      await offLocal();
      await subscription.offRedis?.().catch(() => undefined);
    };
  }

  acquireLease(key: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.route(
      async () => {
        const isTaken = await this.redis.acquireLease(key, owner, ttlMs);
        if (isTaken) this.local.holdLease(key, owner, ttlMs);
        return isTaken;
      },
      async () => {
        const isTaken = await this.local.acquireLease(key, owner, ttlMs);
        if (isTaken) this.changes.leases.add(key);
        return isTaken;
      },
    );
  }

  renewLease(key: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.route(
      async () => {
        const isRenewed = await this.redis.renewLease(key, owner, ttlMs);
        if (isRenewed) this.local.holdLease(key, owner, ttlMs);
        else this.local.forgetLease(key, owner);
        return isRenewed;
      },
      () => this.local.renewLease(key, owner, ttlMs),
    );
  }

  releaseLease(key: string, owner: string): Promise<boolean> {
    return this.route(
      async () => {
        this.local.forgetLease(key, owner);
        return this.redis.releaseLease(key, owner);
      },
      async () => {
        this.changes.releasedLeases.set(key, owner);
        return this.local.releaseLease(key, owner);
      },
    );
  }

  leaseOwner(key: string): Promise<string | null> {
    return this.route(
      () => this.redis.leaseOwner(key),
      async () => {
        // A lease this instance holds is known here; any other may be held elsewhere.
        const owner = await this.local.leaseOwner(key);
        if (owner === null) throw unknownWhileDown('who holds this lease');
        return owner;
      },
    );
  }

  async appendToStream(key: string, fields: Record<string, string>, options: AppendOptions = {}): Promise<string> {
    if (this.gate) await this.gate.isOpen;
    if (this.isClosed) throw closedError();
    if (!this.isUp) return this.appendLocally(key, fields, options);
    // Noted until answered: when Redis goes away, the appends still in flight are copied to memory at
    // once, so they keep their place before the appends made after (their failures come later).
    const append: AppendInFlight = { key, fields, options };
    this.appendsInFlight.add(append);
    try {
      return await this.redis.appendToStream(key, fields, options);
    } catch (error) {
      if (this.isClosed || !isSharedStateUnavailable(error)) throw error;
      this.markDown(error);
      return await append.copy!;
    } finally {
      this.appendsInFlight.delete(append);
    }
  }

  async readStream(key: string, afterId: string | null, options?: ReadOptions): Promise<StreamEntry[]> {
    if (afterId !== null) assertStreamId(afterId);
    return this.route(
      () => this.redis.readStream(key, afterId, options),
      () => Promise.reject(unknownWhileDown('a stream log')),
    );
  }

  deleteStream(key: string): Promise<void> {
    return this.route(
      () => this.redis.deleteStream(key),
      async () => {
        await this.local.deleteStream(key);
        this.changes.deletedStreams.add(key);
      },
    );
  }

  /** Whether Redis answers (dependency health); the instance serves either way. */
  async ping(): Promise<void> {
    if (this.isClosed) throw closedError();
    await this.redis.ping();
  }

  isDegraded(): boolean {
    return !this.isUp;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    clearInterval(this.probe);
    this.openGate();
    this.subscriptions.clear();
    await Promise.all([this.redis.close(), this.local.close()]);
  }

  /** Runs `remote` while Redis is up, `fallback` while it is not or when `remote` finds it gone. */
  private async route<T>(remote: () => Promise<T>, fallback: () => Promise<T>): Promise<T> {
    if (this.gate) await this.gate.isOpen;
    if (this.isClosed) throw closedError();
    if (this.isUp) {
      try {
        return await remote();
      } catch (error) {
        if (this.isClosed || !isSharedStateUnavailable(error)) throw error;
        this.markDown(error);
      }
    }
    return fallback();
  }

  private markDown(reason: unknown): void {
    if (this.isClosed || !this.isUp) return;
    this.isUp = false;
    this.downSince = Date.now();
    // Those that landed before the outage are recognised at the hand-over (see RedisSharedState.restoreStream).
    for (const append of this.appendsInFlight) append.copy = this.appendLocally(append.key, append.fields, append.options);
    this.log.warn({ reason: reason instanceof Error ? reason.message : reason }, 'Redis is unreachable: shared state is served from this instance until it returns');
    // The connection's ready event is the quick way back; this covers a call that timed out on a connection still open.
    this.probe = setInterval(() => {
      if (!this.redis.isDegraded()) this.recover();
    }, this.probeIntervalMs);
    this.probe.unref();
  }

  private recover(): void {
    if (this.isUp || this.isClosed || this.recovery) return;
    const startedAt = Date.now();
    const control = { hold: () => this.hold(), flip: () => this.markUp() };
    this.recovery = handOver(this.redis, this.local, this.changes, this.subscriptions, this.log, control)
      .then((handed) => {
        this.log.info({ ...handed, downMs: startedAt - this.downSince, handOverMs: Date.now() - startedAt }, 'Redis is back: shared state is cluster-wide again');
      })
      .catch((error: unknown) => {
        this.log.debug({ err: error }, 'Redis is not back yet');
      })
      .finally(() => {
        this.recovery = undefined;
        // Gone again mid-way: what waited goes to memory, in the order it came.
        this.openGate();
      });
  }

  private appendLocally(key: string, fields: Record<string, string>, options: AppendOptions): Promise<string> {
    this.changes.streamOptions.set(key, options);
    return this.local.appendToStream(key, fields, options);
  }

  private hold(): void {
    if (this.gate) return;
    let open!: () => void;
    const isOpen = new Promise<void>((resolve) => {
      open = resolve;
    });
    this.gate = { isOpen, open };
  }

  private openGate(): void {
    const gate = this.gate;
    this.gate = undefined;
    gate?.open();
  }

  /** Called by the hand-over in the tick it found nothing left in memory. */
  private markUp(): void {
    if (!this.isClosed) {
      this.isUp = true;
      clearInterval(this.probe);
      this.probe = undefined;
      this.changes.streamOptions.clear();
      this.local.clearCache();
    }
    // What waited for the hand-over now goes to Redis, in the order it came.
    this.openGate();
  }
}
