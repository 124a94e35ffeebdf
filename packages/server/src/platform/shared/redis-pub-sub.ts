import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { closedError } from './errors.js';
import { invokeHandler, type MessageHandler } from './pub-sub.js';
import { commandTimeoutMs, toSharedStateError, whenReady, type ConnectionWatcher } from './redis-connection.js';

interface Subscription {
  handler: MessageHandler;
}

interface Channel {
  subscriptions: Set<Subscription>;
  /** Settles when Redis has confirmed the SUBSCRIBE. */
  isSubscribed: Promise<void>;
}

/**
 * Subscriptions of one SharedState, all on one dedicated connection (a subscribed
 * connection can run nothing else). Each Redis channel is subscribed once however
 * many handlers listen to it. After a reconnect ioredis resubscribes every channel
 * it had (autoResubscribe), so subscriptions outlive Redis restarts.
 */
export class RedisChannels {
  private subscriber: Redis | undefined;
  private readonly channels = new Map<string, Channel>();
  private isClosed = false;

  constructor(
    private readonly main: Redis,
    private readonly prefix: string,
    private readonly watcher: ConnectionWatcher,
    private readonly log: Logger,
  ) {}

  /** Subscribes `handler` to `channel`; rejects (and subscribes nothing) when Redis is unreachable. */
  async subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>> {
    const name = this.prefix + channel;
    let entry = this.channels.get(name);
    if (!entry) {
      const created: Channel = { subscriptions: new Set(), isSubscribed: this.sendSubscribe(name) };
      created.isSubscribed.catch(() => {
        if (this.channels.get(name) === created) this.channels.delete(name);
      });
      this.channels.set(name, (entry = created));
    }
    const subscription: Subscription = { handler };
    entry.subscriptions.add(subscription);
    try {
      await entry.isSubscribed;
    } catch (error) {
      entry.subscriptions.delete(subscription);
      throw error;
    }
    const joined = entry;
    return async () => {
      if (!joined.subscriptions.delete(subscription) || joined.subscriptions.size > 0) return;
      if (this.channels.get(name) !== joined) return;
      this.channels.delete(name);
      // Local delivery has stopped already; failing to tell Redis (an outage) only leaves messages to ignore.
      await this.subscriber?.unsubscribe(name).catch((error: unknown) => this.log.debug({ err: error, channel }, 'unsubscribe failed'));
    };
  }

  /**
   * Resolves once the subscriber connection is ready and has resubscribed (ioredis resubscribes on
   * ready; a PING answered after that proves Redis processed it). At once when nothing is subscribed.
   */
  async whenResubscribed(): Promise<void> {
    const subscriber = this.subscriber;
    if (!subscriber || this.channels.size === 0) return;
    await whenReady(subscriber, commandTimeoutMs);
    await subscriber.ping().catch((error: unknown) => {
      throw toSharedStateError(error);
    });
  }

  /** Closes the subscriber connection. */
  async close(): Promise<void> {
    this.isClosed = true;
    this.channels.clear();
    const subscriber = this.subscriber;
    this.subscriber = undefined;
    if (subscriber) await quietly(subscriber);
  }

  private async sendSubscribe(name: string): Promise<void> {
    // The command connection's state is the quickest sign of an outage; fail on it before opening another.
    await whenReady(this.main);
    const subscriber = this.connection();
    await whenReady(subscriber);
    await subscriber.subscribe(name).catch((error: unknown) => {
      throw toSharedStateError(error);
    });
  }

  private connection(): Redis {
    // A subscribe that was waiting while close() ran must not open a connection nobody will close.
    if (this.isClosed) throw closedError();
    // A connection that gave up for good (status end) is replaced; one retrying is kept.
    if (this.subscriber && this.subscriber.status !== 'end') return this.subscriber;
    const subscriber = this.main.duplicate();
    this.watcher.watch(subscriber, 'subscriber');
    subscriber.on('message', (name: string, message: string) => this.deliver(name, message));
    this.subscriber = subscriber;
    return subscriber;
  }

  private deliver(name: string, message: string): void {
    const entry = this.channels.get(name);
    if (!entry) return;
    const channel = name.slice(this.prefix.length);
    for (const subscription of [...entry.subscriptions]) {
      if (!entry.subscriptions.has(subscription)) continue;
      invokeHandler(subscription.handler, message, (error) => this.log.error({ err: error, channel }, 'message handler failed'));
    }
  }
}

/**
 * Quits `client` politely when it can, and makes sure it is closed either way. ioredis arms a
 * 2 s timer on every disconnect() that only a still-open socket clears, so an ended client is left alone.
 */
export async function quietly(client: Redis): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => undefined);
  if (client.status !== 'end') client.disconnect();
}
