/**
 * Expiring exclusive ownership of a key (which instance runs a generation).
 * The owner renews before the TTL runs out; if it dies, the lease lapses and
 * another instance may acquire it.
 */
export interface Leases {
  /** Takes the lease when nobody (not even `owner`) holds it; true when taken. */
  acquireLease(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Extends the lease to `ttlMs` from now, only while `owner` still holds it; true when extended. */
  renewLease(key: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up, only if `owner` holds it; true when released. */
  releaseLease(key: string, owner: string): Promise<boolean>;
  /** The current holder, or null when the lease is free. */
  leaseOwner(key: string): Promise<string | null>;
}
