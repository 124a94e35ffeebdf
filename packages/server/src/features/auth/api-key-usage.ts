/** A key's last use is written at most this often, so a busy key costs one write a minute, not one per request. */
export const API_KEY_USAGE_INTERVAL_MS = 60_000;

/** Entries kept before the ones older than the interval are dropped. */
const REMEMBERED_KEYS = 10_000;

/**
 * Decides when an API key's `last_used_at` is worth writing: when both the stored value (as the
 * lookup read it) and this instance's own last write are older than a minute. The write itself is
 * the caller's, not awaited by the request.
 */
export class ApiKeyUsage {
  private readonly written = new Map<string, number>();

  /** True when the use of `keyId` at `now` should be written; remembers it as written. */
  shouldRecord(keyId: string, storedLastUsed: number | null, now: number): boolean {
    const since = now - API_KEY_USAGE_INTERVAL_MS;
    if (storedLastUsed !== null && storedLastUsed > since) return false;
    const mine = this.written.get(keyId);
    if (mine !== undefined && mine > since) return false;
    if (this.written.size >= REMEMBERED_KEYS) this.forgetOlderThan(since);
    this.written.set(keyId, now);
    return true;
  }

  private forgetOlderThan(since: number): void {
    for (const [keyId, at] of this.written) if (at <= since) this.written.delete(keyId);
    // Still full of recent keys: start over rather than grow (at worst a few extra writes).
    if (this.written.size >= REMEMBERED_KEYS) this.written.clear();
  }
}
