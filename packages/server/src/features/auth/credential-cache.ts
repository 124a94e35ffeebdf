import type { AuthUser } from '../../http/access.js';

/** What the cache keeps of an API key besides its user: its id and the last use stored when it was read, for the last-used write. */
export interface CachedApiKey {
  id: string;
  lastUsedAt: number | null;
}

/** What a lookup found valid: the user, when the credential lapses (epoch ms; null: never) and, for an API key, the key. */
export interface VerifiedCredential {
  user: AuthUser;
  expiresAt: number | null;
  apiKey: CachedApiKey | null;
}

interface Entry extends VerifiedCredential {
  verifiedAt: number;
}

/** How the cache answers for a credential. */
export type CachedCredential = { user: AuthUser; apiKey: CachedApiKey | null; isFresh: boolean } | undefined;

/**
 * Credentials (sessions by id, API keys by hash) recently found valid in the database, with the
 * user they stand for. An entry is fresh for `freshMs` after its check: within that window a
 * request needs no database query, which is also how long a revocation made on another instance
 * may go unnoticed here. Past it, the database is asked again; only while the database cannot
 * answer is an entry up to `graceMs` old still honoured (nothing can be revoked meanwhile, since
 * revoking is a database write). A revocation on this instance evicts at once. An entry never
 * outlives its credential's own expiry, fresh or not.
 */
export class CredentialCache {
  private readonly entries = new Map<string, Entry>();
  // Users whose credentials were revoked inside a transaction that may not have committed yet:
  // until then the database still shows them, so nothing of theirs is cached before this time.
  private readonly uncachedUntil = new Map<string, number>();
  // Bumped by every eviction, so a lookup that began before it cannot cache what it read.
  private revision = 0;

  constructor(
    private readonly freshMs: number,
    private readonly graceMs: number,
    private readonly maxEntries = 10_000,
  ) {}

  /** The cached user for `key`, fresh or only within the outage grace; undefined when unknown or too old. */
  get(key: string, now: number): CachedCredential {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const age = now - entry.verifiedAt;
    if (entry.expiresAt === null || now < entry.expiresAt) {
      if (age < this.freshMs) return { user: entry.user, apiKey: entry.apiKey, isFresh: true };
      if (age < this.graceMs) return { user: entry.user, apiKey: entry.apiKey, isFresh: false };
    }
    this.entries.delete(key);
    return undefined;
  }

  /** A token to pass to `set` for a lookup starting now. */
  begin(): number {
    return this.revision;
  }

  /** Remembers what a lookup that began at `revision` found valid, unless something was evicted since. */
  set(key: string, found: VerifiedCredential, now: number, revision: number): void {
    if (this.freshMs <= 0 || revision !== this.revision) return;
    if (found.expiresAt !== null && found.expiresAt <= now) return;
    const until = this.uncachedUntil.get(found.user.id);
    if (until !== undefined) {
      if (until > now) return;
      this.uncachedUntil.delete(found.user.id);
    }
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { user: found.user, expiresAt: found.expiresAt, apiKey: found.apiKey, verifiedAt: now });
  }

  /** Drops an entry the database no longer confirms (no eviction: nothing was revoked here). */
  forget(key: string): void {
    this.entries.delete(key);
  }

  /** Forgets one credential (a sign-out, once its row is gone). */
  evict(key: string): void {
    this.revision += 1;
    this.entries.delete(key);
  }

  /** Forgets every credential of a user (a revocation already committed). */
  evictUser(userId: string): void {
    this.revision += 1;
    for (const [key, entry] of this.entries) if (entry.user.id === userId) this.entries.delete(key);
  }

  /**
   * Forgets every credential of a user and caches none of theirs for one freshness window: the
   * revocation is inside a transaction that has not committed yet, so the database still shows them.
   */
  evictUserBeforeCommit(userId: string, now: number): void {
    this.evictUser(userId);
    if (this.uncachedUntil.size >= this.maxEntries) this.uncachedUntil.clear();
    this.uncachedUntil.set(userId, now + this.freshMs);
  }
}
