/** Result of counting one event against a fixed-window limit. */
export interface RateLimitResult {
  allowed: boolean;
  /** Events counted in the current window, including this one. */
  count: number;
  /** Milliseconds until the window resets. */
  retryAfterMs: number;
}

/**
 * Fixed-window counters for rate limits and lockouts. Exact across a cluster:
 * a limit of N admits N events in total, whichever instances count them.
 */
export interface Counters {
  /** Counts one event under `key`; allowed while the window's count stays within `limit`. */
  hit(key: string, limit: number, windowMs: number): Promise<RateLimitResult>;
  /** Reads the current count under `key` without adding to it. */
  peek(key: string): Promise<number>;
  /** Forgets the counter under `key`. */
  reset(key: string): Promise<void>;
}
