import type { Readable } from 'node:stream';
import { ObjectStorageUnavailableError, type ObjectStorage, type StoredObject } from './object-storage.js';

/** Options for the guard. */
export interface GuardedStorageOptions {
  /** How often to ping the store while it is down. */
  probeIntervalMs?: number;
  log?: { warn(details: object, message: string): void; info?(details: object, message: string): void };
}

/**
 * Fails fast while the object store is known to be down. Once an operation or a ping finds it
 * unreachable (ObjectStorageUnavailableError), uploads and downloads are refused at once with that
 * error (a retryable 503), without opening a request that would wait on a dead store or reading an
 * upload it cannot keep, until a ping in the background (or readiness') finds the store back.
 * Deletions and pings still go through. Nothing else in the instance depends on the store.
 */
export class GuardedStorage implements ObjectStorage {
  private failure: string | undefined;
  private probe: NodeJS.Timeout | undefined;
  private readonly probeIntervalMs: number;

  constructor(
    /** The storage guarded (public so tests can see which was built). */
    readonly store: ObjectStorage,
    private readonly options: GuardedStorageOptions = {},
  ) {
    this.probeIntervalMs = options.probeIntervalMs ?? 1000;
  }

  put(key: string, body: Readable, options: { maxBytes: number; contentType: string }): Promise<StoredObject> {
    this.refuseWhileDown();
    return this.watch(this.store.put(key, body, options));
  }

  get(key: string): Promise<Readable | undefined> {
    this.refuseWhileDown();
    return this.watch(this.store.get(key));
  }

  delete(key: string): Promise<void> {
    return this.watch(this.store.delete(key));
  }

  ping(): Promise<void> {
    return this.watch(this.store.ping());
  }

  /** False while the store is known to be unreachable. */
  isAvailable(): boolean {
    return this.failure === undefined;
  }

  async close(): Promise<void> {
    clearInterval(this.probe);
    this.probe = undefined;
    await this.store.close?.();
  }

  private refuseWhileDown(): void {
    if (this.failure !== undefined) throw new ObjectStorageUnavailableError(`still down (${this.failure}); retry shortly`);
  }

  private async watch<T>(operation: Promise<T>): Promise<T> {
    try {
      const result = await operation;
      this.markUp();
      return result;
    } catch (error) {
      if (error instanceof ObjectStorageUnavailableError) this.markDown(error);
      throw error;
    }
  }

  private markDown(error: ObjectStorageUnavailableError): void {
    const isNew = this.failure === undefined;
    this.failure = error.message.replace(/^Object storage unavailable: /, '');
    if (!isNew) return;
    this.options.log?.warn({ reason: this.failure }, 'object storage is unreachable: uploads and downloads are refused until it returns');
    let isProbing = false;
    this.probe = setInterval(() => {
      if (isProbing) return;
      isProbing = true;
      this.store.ping().then(
        () => this.markUp(),
        () => (isProbing = false),
      );
    }, this.probeIntervalMs);
    this.probe.unref();
  }

  private markUp(): void {
    if (this.failure === undefined) return;
    this.failure = undefined;
    clearInterval(this.probe);
    this.probe = undefined;
    this.options.log?.info?.({}, 'object storage is reachable again');
  }
}
