/**
 * A cache of JSON values with a time to live. Values go through JSON on every
 * implementation, so what comes back is a copy with JSON's types (no Dates, no undefined).
 */
export interface Cache {
  /**
   * Reads a cached value, or undefined when absent or expired. With `strict`, a value that may
   * exist but cannot be read right now (Redis unreachable, see SharedState.isDegraded) rejects with
   * SharedStateUnavailableError instead of reading as absent: for records, not for recomputable caches.
   */
  getCached<T>(key: string, options?: { strict?: boolean }): Promise<T | undefined>;
  /** Caches a JSON-serialisable value for `ttlMs`. */
  setCached<T>(key: string, value: T, ttlMs: number): Promise<void>;
  /** Drops a cached value. */
  deleteCached(key: string): Promise<void>;
}
