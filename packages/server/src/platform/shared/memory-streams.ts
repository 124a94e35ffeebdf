import { closedError } from './errors.js';
import { assertStreamId, type AppendOptions, type ReadOptions, type StreamEntry, type StreamLog } from './stream-log.js';
import { flattenFields, toMs } from './values.js';

interface StoredEntry extends StreamEntry {
  ms: bigint;
  seq: bigint;
}

interface Stream {
  entries: StoredEntry[];
  lastMs: bigint;
  lastSeq: bigint;
  expiresAt: number | null;
}

interface Waiter {
  afterId: string | null;
  count: number | undefined;
  resolve(entries: StreamEntry[]): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/** In-process stream logs with Redis Streams' semantics: `ms-seq` ids, blocking reads, exact trimming, TTL. */
export class MemoryStreams implements StreamLog {
  private readonly streams = new Map<string, Stream>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private isClosed = false;

  constructor(private readonly now: () => number) {}

  async appendToStream(key: string, fields: Record<string, string>, options: AppendOptions = {}): Promise<string> {
    this.assertOpen();
    flattenFields(fields);
    const now = this.now();
    let stream = this.live(key);
    if (!stream) this.streams.set(key, (stream = { entries: [], lastMs: -1n, lastSeq: 0n, expiresAt: null }));
    // Like Redis: ids never go backwards, even when the clock does.
    const ms = BigInt(Math.floor(now)) > stream.lastMs ? BigInt(Math.floor(now)) : stream.lastMs;
    const seq = ms === stream.lastMs ? stream.lastSeq + 1n : 0n;
    stream.lastMs = ms;
    stream.lastSeq = seq;
    const id = `${ms}-${seq}`;
    stream.entries.push({ id, ms, seq, fields: { ...fields } });
    if (options.maxLength !== undefined) {
      const excess = stream.entries.length - Math.max(0, Math.floor(options.maxLength));
      if (excess > 0) stream.entries.splice(0, excess);
    }
    if (options.ttlMs !== undefined) stream.expiresAt = now + toMs(options.ttlMs);
    this.wake(key);
    return id;
  }

  async readStream(key: string, afterId: string | null, options: ReadOptions = {}): Promise<StreamEntry[]> {
    this.assertOpen();
    if (afterId !== null) assertStreamId(afterId);
    const count = options.count === undefined ? undefined : Math.max(1, Math.floor(options.count));
    const available = this.entriesAfter(key, afterId, count);
    const blockMs = Math.floor(options.blockMs ?? 0);
    if (available.length > 0 || blockMs <= 0) return available;
    return new Promise<StreamEntry[]>((resolve, reject) => {
      const waiter: Waiter = {
        afterId,
        count,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.removeWaiter(key, waiter);
          resolve([]);
        }, blockMs),
      };
      let waiting = this.waiters.get(key);
      if (!waiting) this.waiters.set(key, (waiting = new Set()));
      waiting.add(waiter);
    });
  }

  async deleteStream(key: string): Promise<void> {
    this.assertOpen();
    this.streams.delete(key);
  }

  /** Rejects blocked reads and refuses further use. */
  close(): void {
    this.isClosed = true;
    for (const waiting of this.waiters.values()) {
      for (const waiter of waiting) {
        clearTimeout(waiter.timer);
        waiter.reject(closedError());
      }
    }
    this.waiters.clear();
    this.streams.clear();
  }

  /** Drops expired streams. */
  sweep(): void {
    for (const key of [...this.streams.keys()]) this.live(key);
  }

  /** The keys of the live streams that hold entries. */
  keys(): string[] {
    return [...this.streams.keys()].filter((key) => (this.live(key)?.entries.length ?? 0) > 0);
  }

  /** A copy of a stream's entries, oldest first, and how long it has left to live (undefined: for ever). */
  snapshot(key: string): { entries: StreamEntry[]; ttlMs: number | undefined } {
    const stream = this.live(key);
    if (!stream) return { entries: [], ttlMs: undefined };
    const ttlMs = stream.expiresAt === null ? undefined : Math.max(1, stream.expiresAt - this.now());
    return { entries: stream.entries.map(({ id, fields }) => ({ id, fields: { ...fields } })), ttlMs };
  }

  /** Removes the entries up to and including `lastId` (handed over elsewhere); an emptied stream goes. */
  discardThrough(key: string, lastId: string): void {
    const stream = this.live(key);
    if (!stream) return;
    stream.entries.splice(0, firstAfter(stream.entries, lastId));
    if (stream.entries.length === 0) this.streams.delete(key);
  }

  private entriesAfter(key: string, afterId: string | null, count: number | undefined): StreamEntry[] {
    const stream = this.live(key);
    if (!stream) return [];
    const start = afterId === null ? 0 : firstAfter(stream.entries, afterId);
    const end = count === undefined ? stream.entries.length : start + count;
    return stream.entries.slice(start, end).map(({ id, fields }) => ({ id, fields: { ...fields } }));
  }

  private wake(key: string): void {
    const waiting = this.waiters.get(key);
    if (!waiting) return;
    for (const waiter of [...waiting]) {
      const entries = this.entriesAfter(key, waiter.afterId, waiter.count);
      if (entries.length === 0) continue;
      clearTimeout(waiter.timer);
      this.removeWaiter(key, waiter);
      waiter.resolve(entries);
    }
  }

  private removeWaiter(key: string, waiter: Waiter): void {
    const waiting = this.waiters.get(key);
    waiting?.delete(waiter);
    if (waiting?.size === 0) this.waiters.delete(key);
  }

  private live(key: string): Stream | undefined {
    const stream = this.streams.get(key);
    if (stream?.expiresAt != null && stream.expiresAt <= this.now()) {
      this.streams.delete(key);
      return undefined;
    }
    return stream;
  }

  private assertOpen(): void {
    if (this.isClosed) throw closedError();
  }
}

/** Index of the first entry whose id is greater than `afterId` (entries are in id order). */
function firstAfter(entries: StoredEntry[], afterId: string): number {
  const dash = afterId.indexOf('-');
  const ms = BigInt(afterId.slice(0, dash));
  const seq = BigInt(afterId.slice(dash + 1));
  let low = 0;
  let high = entries.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    const entry = entries[middle]!;
    if (entry.ms < ms || (entry.ms === ms && entry.seq <= seq)) low = middle + 1;
    else high = middle;
  }
  return low;
}
