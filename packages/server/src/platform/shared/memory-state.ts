import { pino, type Logger } from 'pino';
import { closedError } from './errors.js';
import { MemoryStreams } from './memory-streams.js';
import { invokeHandler, type MessageHandler } from './pub-sub.js';
import type { RateLimitResult, SharedState } from './shared-state.js';
import type { AppendOptions, ReadOptions, StreamEntry } from './stream-log.js';
import { toJson, toMs } from './values.js';

interface Window {
  count: number;
  resetAt: number;
}

interface Lease {
  owner: string;
  expiresAt: number;
}

interface Subscription {
  handler: MessageHandler;
}

/**
 * In-process SharedState for a single instance (the embedded default). Behaves as the
 * Redis one does, down to JSON copies of cached values and asynchronous delivery, so a
 * feature tested here behaves alike on a cluster. Expiry follows the injected clock.
 */
export class MemorySharedState implements SharedState {
  private readonly windows = new Map<string, Window>();
  private readonly cache = new Map<string, { json: string; expiresAt: number }>();
  private readonly leases = new Map<string, Lease>();
  private readonly channels = new Map<string, Set<Subscription>>();
  private readonly streams: MemoryStreams;
  private readonly sweeper: NodeJS.Timeout;
  private isClosed = false;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly log: Logger = pino({ enabled: false }),
  ) {
    this.streams = new MemoryStreams(now);
    // Expired entries are dropped lazily on read; the sweep bounds memory for keys never read again.
    this.sweeper = setInterval(() => this.sweep(), 60_000);
    this.sweeper.unref();
  }

  async hit(key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    this.assertOpen();
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      window = { count: 0, resetAt: now + toMs(windowMs) };
      this.windows.set(key, window);
    }
    window.count += 1;
    return { allowed: window.count <= limit, count: window.count, retryAfterMs: window.resetAt - now };
  }

  async peek(key: string): Promise<number> {
    this.assertOpen();
    const window = this.windows.get(key);
    return window && window.resetAt > this.now() ? window.count : 0;
  }

  async reset(key: string): Promise<void> {
    this.assertOpen();
    this.windows.delete(key);
  }

  async getCached<T>(key: string): Promise<T | undefined> {
    this.assertOpen();
    const entry = this.cache.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.cache.delete(key);
      return undefined;
    }
    return JSON.parse(entry.json) as T;
  }

  async setCached<T>(key: string, value: T, ttlMs: number): Promise<void> {
    this.assertOpen();
    this.cache.set(key, { json: toJson(value), expiresAt: this.now() + toMs(ttlMs) });
  }

  async deleteCached(key: string): Promise<void> {
    this.assertOpen();
    this.cache.delete(key);
  }

  async publish(channel: string, message: string): Promise<void> {
    this.assertOpen();
    const subscriptions = this.channels.get(channel);
    if (!subscriptions) return;
    for (const subscription of [...subscriptions]) {
      // Later, like a message from Redis; skipped if unsubscribed by then.
      queueMicrotask(() => {
        if (!subscriptions.has(subscription)) return;
        invokeHandler(subscription.handler, message, (error) => this.log.error({ err: error, channel }, 'message handler failed'));
      });
    }
  }

  async subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>> {
    this.assertOpen();
    let subscriptions = this.channels.get(channel);
    if (!subscriptions) this.channels.set(channel, (subscriptions = new Set()));
    const subscription: Subscription = { handler };
    subscriptions.add(subscription);
    const joined = subscriptions;
    return async () => {
      joined.delete(subscription);
      if (joined.size === 0 && this.channels.get(channel) === joined) this.channels.delete(channel);
    };
  }

  async acquireLease(key: string, owner: string, ttlMs: number): Promise<boolean> {
    this.assertOpen();
    if (this.liveLease(key)) return false;
    this.leases.set(key, { owner, expiresAt: this.now() + toMs(ttlMs) });
    return true;
  }

  async renewLease(key: string, owner: string, ttlMs: number): Promise<boolean> {
    this.assertOpen();
    const lease = this.liveLease(key);
    if (lease?.owner !== owner) return false;
    lease.expiresAt = this.now() + toMs(ttlMs);
    return true;
  }

  async releaseLease(key: string, owner: string): Promise<boolean> {
    this.assertOpen();
    if (this.liveLease(key)?.owner !== owner) return false;
    this.leases.delete(key);
    return true;
  }

  async leaseOwner(key: string): Promise<string | null> {
    this.assertOpen();
    return this.liveLease(key)?.owner ?? null;
  }

  appendToStream(key: string, fields: Record<string, string>, options?: AppendOptions): Promise<string> {
    return this.streams.appendToStream(key, fields, options);
  }

  readStream(key: string, afterId: string | null, options?: ReadOptions): Promise<StreamEntry[]> {
    return this.streams.readStream(key, afterId, options);
  }

  deleteStream(key: string): Promise<void> {
    return this.streams.deleteStream(key);
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  /** Always false: in one process, this memory is the whole truth. */
  isDegraded(): boolean {
    return false;
  }

  // What ResilientSharedState mirrors here while Redis serves, and hands over to Redis when it returns.

  /** Records that `owner` holds the lease (taken or renewed elsewhere) for `ttlMs` from now. */
  holdLease(key: string, owner: string, ttlMs: number): void {
    this.leases.set(key, { owner, expiresAt: this.now() + toMs(ttlMs) });
  }

  /** Forgets the lease if `owner` holds it. */
  forgetLease(key: string, owner: string): void {
    if (this.leases.get(key)?.owner === owner) this.leases.delete(key);
  }

  /** The live leases and the time each has left. */
  liveLeases(): Array<{ key: string; owner: string; ttlMs: number }> {
    const now = this.now();
    return [...this.leases].filter(([, lease]) => lease.expiresAt > now).map(([key, lease]) => ({ key, owner: lease.owner, ttlMs: lease.expiresAt - now }));
  }

  /** The live counter windows: their counts and the time each has left. */
  liveWindows(): Array<{ key: string; count: number; ttlMs: number }> {
    const now = this.now();
    return [...this.windows].filter(([, window]) => window.resetAt > now).map(([key, window]) => ({ key, count: window.count, ttlMs: window.resetAt - now }));
  }

  /** Takes `count` events off a window (counted elsewhere now); an emptied window goes. */
  subtractFromWindow(key: string, count: number): void {
    const window = this.windows.get(key);
    if (!window) return;
    window.count -= count;
    if (window.count <= 0) this.windows.delete(key);
  }

  /** A cached value as JSON and the time it has left, or undefined when absent or expired. */
  cachedEntry(key: string): { json: string; ttlMs: number } | undefined {
    const entry = this.cache.get(key);
    const now = this.now();
    return entry && entry.expiresAt > now ? { json: entry.json, ttlMs: entry.expiresAt - now } : undefined;
  }

  /** Drops every cached value. */
  clearCache(): void {
    this.cache.clear();
  }

  /** The stream logs, for handing them over (see MemoryStreams). */
  get streamLogs(): Pick<MemoryStreams, 'keys' | 'snapshot' | 'discardThrough'> {
    return this.streams;
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    clearInterval(this.sweeper);
    this.channels.clear();
    this.streams.close();
  }

  private liveLease(key: string): Lease | undefined {
    const lease = this.leases.get(key);
    if (lease && lease.expiresAt <= this.now()) {
      this.leases.delete(key);
      return undefined;
    }
    return lease;
  }

  private assertOpen(): void {
    if (this.isClosed) throw closedError();
  }

  private sweep(): void {
    const now = this.now();
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
    for (const [key, entry] of this.cache) if (entry.expiresAt <= now) this.cache.delete(key);
    for (const [key, lease] of this.leases) if (lease.expiresAt <= now) this.leases.delete(key);
    this.streams.sweep();
  }
}
