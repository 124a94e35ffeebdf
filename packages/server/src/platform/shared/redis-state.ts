import type { Redis } from 'ioredis';
import { pino, type Logger } from 'pino';
import { closedError } from './errors.js';
import type { MessageHandler } from './pub-sub.js';
import { BlockingReaders } from './redis-blocking-reads.js';
import { ConnectionWatcher, commandTimeoutMs, createRedisClient, toSharedStateError, whenReady, type RedisTarget } from './redis-connection.js';
import { RedisChannels, quietly } from './redis-pub-sub.js';
import { withScripts, type ScriptCommands } from './redis-scripts.js';
import type { RateLimitResult, SharedState } from './shared-state.js';
import { assertStreamId, type AppendOptions, type ReadOptions, type StreamEntry } from './stream-log.js';
import { flattenFields, toJson, toMs } from './values.js';

/** Options for the Redis-backed SharedState. */
export interface RedisSharedStateOptions extends RedisTarget {
  /** Put before every key and channel, so several deployments can share one Redis. Default `parley:`. */
  keyPrefix?: string;
  log?: Logger;
}

/**
 * SharedState in Redis, for a cluster of instances. Expiry runs on Redis's clock.
 * Keys: `<prefix>rate:`, `cache:`, `lease:`, `stream:` + the caller's key; channels: `<prefix>` + the channel.
 */
export class RedisSharedState implements SharedState {
  private readonly client: Redis & ScriptCommands;
  private readonly channels: RedisChannels;
  private readonly blockingReaders: BlockingReaders;
  private readonly prefix: string;
  private isClosed = false;

  constructor(options: RedisSharedStateOptions) {
    this.prefix = options.keyPrefix ?? 'parley:';
    const log = options.log ?? pino({ enabled: false });
    const watcher = new ConnectionWatcher(log);
    this.client = withScripts(createRedisClient(options));
    watcher.watch(this.client, 'commands');
    // Failures are logged by the watcher and retried by ioredis; requests meanwhile get SharedStateUnavailableError.
    this.client.connect().catch(() => undefined);
    this.channels = new RedisChannels(this.client, this.prefix, watcher, log);
    this.blockingReaders = new BlockingReaders(this.client, watcher);
  }

  async hit(key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    const [count, ttl] = await this.run((redis) => redis.parleyHit(this.key('rate', key), toMs(windowMs)));
    return { allowed: count <= limit, count, retryAfterMs: ttl };
  }

  async peek(key: string): Promise<number> {
    const count = await this.run((redis) => redis.get(this.key('rate', key)));
    return count === null ? 0 : Number(count);
  }

  async reset(key: string): Promise<void> {
    await this.run((redis) => redis.del(this.key('rate', key)));
  }

  async getCached<T>(key: string): Promise<T | undefined> {
    const json = await this.run((redis) => redis.get(this.key('cache', key)));
    return json === null ? undefined : (JSON.parse(json) as T);
  }

  async setCached<T>(key: string, value: T, ttlMs: number): Promise<void> {
    const json = toJson(value);
    await this.run((redis) => redis.set(this.key('cache', key), json, 'PX', toMs(ttlMs)));
  }

  async deleteCached(key: string): Promise<void> {
    await this.run((redis) => redis.del(this.key('cache', key)));
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.run((redis) => redis.publish(this.prefix + channel, message));
  }

  async subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>> {
    if (this.isClosed) throw closedError();
    return this.channels.subscribe(channel, handler);
  }

  async acquireLease(key: string, owner: string, ttlMs: number): Promise<boolean> {
    const reply = await this.run((redis) => redis.set(this.key('lease', key), owner, 'PX', toMs(ttlMs), 'NX'));
    return reply === 'OK';
  }

  async renewLease(key: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.run((redis) => redis.parleyRenewLease(this.key('lease', key), owner, toMs(ttlMs)))) === 1;
  }

  async releaseLease(key: string, owner: string): Promise<boolean> {
    return (await this.run((redis) => redis.parleyReleaseLease(this.key('lease', key), owner))) === 1;
  }

  async leaseOwner(key: string): Promise<string | null> {
    return this.run((redis) => redis.get(this.key('lease', key)));
  }

  async appendToStream(key: string, fields: Record<string, string>, options: AppendOptions = {}): Promise<string> {
    const flat = flattenFields(fields);
    const ttl = options.ttlMs === undefined ? '' : String(toMs(options.ttlMs));
    const maxLength = options.maxLength === undefined ? '' : String(Math.max(0, Math.floor(options.maxLength)));
    return this.run((redis) => redis.parleyAppend(this.key('stream', key), ttl, maxLength, ...flat));
  }

  async readStream(key: string, afterId: string | null, options: ReadOptions = {}): Promise<StreamEntry[]> {
    if (afterId !== null) assertStreamId(afterId);
    const args: Array<string | number> = [];
    if (options.count !== undefined) args.push('COUNT', Math.max(1, Math.floor(options.count)));
    const blockMs = Math.floor(options.blockMs ?? 0);
    if (blockMs > 0) args.push('BLOCK', blockMs);
    args.push('STREAMS', this.key('stream', key), afterId ?? '0-0');
    if (blockMs <= 0) return parseXread(await this.run((redis) => redis.call('XREAD', ...args)));
    if (this.isClosed) throw closedError();
    return parseXread(await this.blockingReaders.xread(args, blockMs));
  }

  async deleteStream(key: string): Promise<void> {
    await this.run((redis) => redis.del(this.key('stream', key)));
  }

  async ping(): Promise<void> {
    await this.run((redis) => redis.ping());
  }

  /** True while the command connection is not ready (every operation then rejects). */
  isDegraded(): boolean {
    return this.client.status !== 'ready';
  }

  /** Calls `listener(true)` whenever the command connection becomes ready, `listener(false)` whenever it closes. */
  onConnectionChange(listener: (isUp: boolean) => void): void {
    this.client.on('ready', () => listener(true));
    this.client.on('close', () => listener(false));
  }

  /** Resolves once the subscriptions are live on Redis again after a reconnect (at once when there are none). */
  async subscriptionsReady(): Promise<void> {
    if (this.isClosed) throw closedError();
    await this.channels.whenResubscribed();
  }

  // Hand-over from ResilientSharedState's memory once Redis is back (see fallback-handover.ts).

  /** Adds `count` events counted elsewhere to a window, starting its expiry (`ttlMs`) when it is new. */
  async addToWindow(key: string, count: number, ttlMs: number): Promise<void> {
    await this.run((redis) => redis.parleyAddToWindow(this.key('rate', key), count, toMs(ttlMs)));
  }

  /** Makes `owner` the lease's holder for `ttlMs` unless another owner holds it; false then. */
  async restoreLease(key: string, owner: string, ttlMs: number): Promise<boolean> {
    return (await this.run((redis) => redis.parleyRestoreLease(this.key('lease', key), owner, toMs(ttlMs)))) === 1;
  }

  /** Caches a value already serialised to JSON. */
  async restoreCached(key: string, json: string, ttlMs: number): Promise<void> {
    await this.run((redis) => redis.set(this.key('cache', key), json, 'PX', toMs(ttlMs)));
  }

  /**
   * Appends `entries` in order after the stream's own (with new ids). Leading entries identical to one
   * of the stream's newest are skipped: appends cut off in flight may have landed after all.
   */
  async restoreStream(key: string, entries: StreamEntry[], options: AppendOptions = {}): Promise<void> {
    const streamKey = this.key('stream', key);
    const tail = await this.run((redis) => redis.xrevrange(streamKey, '+', '-', 'COUNT', Math.min(entries.length, 1000)));
    const landed = new Set(tail.map(([, flat]) => flat.join('\u0000')));
    let start = 0;
    while (start < entries.length && landed.has(flattenFields(entries[start]!.fields).join('\u0000'))) start += 1;
    if (start === entries.length) return;
    const ttl = options.ttlMs === undefined ? '' : String(toMs(options.ttlMs));
    const maxLength = options.maxLength === undefined ? '' : String(Math.max(0, Math.floor(options.maxLength)));
    await this.run(async (redis) => {
      // One round trip for the lot; the commands run in order on the one connection.
      const pipeline = redis.pipeline() as unknown as ScriptCommands & { exec(): Promise<Array<[Error | null, unknown]> | null> };
      for (const entry of entries.slice(start)) void pipeline.parleyAppend(streamKey, ttl, maxLength, ...flattenFields(entry.fields));
      const failure = (await pipeline.exec())?.find(([error]) => error)?.[0];
      if (failure) throw failure;
    });
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    await Promise.all([this.channels.close(), this.blockingReaders.close()]);
    await quietly(this.client);
  }

  private key(role: 'rate' | 'cache' | 'lease' | 'stream', key: string): string {
    return `${this.prefix}${role}:${key}`;
  }

  private async run<T>(operation: (redis: Redis & ScriptCommands) => Promise<T>): Promise<T> {
    if (this.isClosed) throw closedError();
    if (this.client.status === 'end') {
      // Only a connector that gave up ends here; start over rather than stay down for good.
      this.client.connect().catch(() => undefined);
    }
    // Connected, the command is written in the caller's tick: a generation's log append must reach
    // Redis before the relay's write of the same batch reaches the client (which waits a tick).
    if (this.client.status !== 'ready') await whenReady(this.client, commandTimeoutMs);
    try {
      return await operation(this.client);
    } catch (error) {
      throw toSharedStateError(error);
    }
  }
}

function parseXread(reply: unknown): StreamEntry[] {
  if (!Array.isArray(reply) || reply.length === 0) return [];
  const [, entries] = reply[0] as [string, Array<[string, string[]]>];
  return entries.map(([id, flat]) => {
    const pairs: Array<[string, string]> = [];
    for (let index = 0; index + 1 < flat.length; index += 2) pairs.push([flat[index]!, flat[index + 1]!]);
    return { id, fields: Object.fromEntries(pairs) };
  });
}
