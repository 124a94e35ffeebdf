/** One entry of a stream log. */
export interface StreamEntry {
  /** `<ms>-<seq>`, increasing within a stream (Redis Streams' id format). */
  id: string;
  fields: Record<string, string>;
}

/** Options for appending to a stream. */
export interface AppendOptions {
  /** Sets the whole stream to expire this long after this append. */
  ttlMs?: number;
  /** Keeps at least this many newest entries, trimming older ones (approximately, on Redis). */
  maxLength?: number;
}

/** Options for reading a stream. */
export interface ReadOptions {
  /** At most this many entries; all available when absent. */
  count?: number;
  /** When nothing is available, waits up to this long for an append; 0 or absent means do not wait. */
  blockMs?: number;
}

/**
 * Append-only logs of entries, readable from any point and followable live
 * (resumable generation chunks). Redis Streams at scale.
 */
export interface StreamLog {
  /** Appends one entry and returns its id. */
  appendToStream(key: string, fields: Record<string, string>, options?: AppendOptions): Promise<string>;
  /**
   * Entries with ids after `afterId` (from the start when null), oldest first. With `blockMs`,
   * waits for the first one to arrive and returns [] if none does in time.
   * Throws RangeError on an `afterId` that is not a stream id (see isStreamId).
   */
  readStream(key: string, afterId: string | null, options?: ReadOptions): Promise<StreamEntry[]>;
  /** Deletes the stream and all its entries. */
  deleteStream(key: string): Promise<void>;
}

const maxUint64 = 2n ** 64n - 1n;
const streamIdPattern = /^(\d{1,20})-(\d{1,20})$/;

/** True when `value` is a stream id `<ms>-<seq>` that Redis would accept (validate Last-Event-ID with this). */
export function isStreamId(value: string): boolean {
  const match = streamIdPattern.exec(value);
  return match !== null && BigInt(match[1]!) <= maxUint64 && BigInt(match[2]!) <= maxUint64;
}

/** Orders two stream ids as Redis does: by milliseconds, then by sequence. Negative when a < b. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs, aSeq] = parseStreamId(a);
  const [bMs, bSeq] = parseStreamId(b);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  return aSeq === bSeq ? 0 : aSeq < bSeq ? -1 : 1;
}

/** Throws RangeError unless `id` is a valid stream id. */
export function assertStreamId(id: string): void {
  if (!isStreamId(id)) throw new RangeError(`Not a stream id: ${JSON.stringify(id.slice(0, 50))}`);
}

function parseStreamId(id: string): [bigint, bigint] {
  assertStreamId(id);
  const dash = id.indexOf('-');
  return [BigInt(id.slice(0, dash)), BigInt(id.slice(dash + 1))];
}
