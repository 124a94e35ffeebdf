import { describe, expect, it } from 'vitest';
import { CredentialCache } from './credential-cache.js';

const alice = { id: 'alice', email: 'alice@example.com', name: 'Alice', role: 'user' as const, sessionId: 's1' };
const bob = { id: 'bob', email: 'bob@example.com', name: 'Bob', role: 'user' as const, sessionId: null };
const aliceSession = { user: alice, expiresAt: null, apiKey: null };
const bobKey = { user: bob, expiresAt: null, apiKey: { id: 'key1', lastUsedAt: null } };

describe('CredentialCache', () => {
  it('answers fresh within the window, stale within the outage grace, then not at all', () => {
    const cache = new CredentialCache(5000, 60_000);
    cache.set('s:s1', aliceSession, 1000, cache.begin());
    expect(cache.get('s:s1', 5999)).toEqual({ user: alice, apiKey: null, isFresh: true });
    expect(cache.get('s:s1', 6000)).toEqual({ user: alice, apiKey: null, isFresh: false });
    expect(cache.get('s:s1', 61_000)).toBeUndefined();
    expect(cache.get('s:s1', 2000)).toBeUndefined();
  });

  it('does not keep what a lookup read if something was revoked while it ran', () => {
    const cache = new CredentialCache(5000, 60_000);
    const revision = cache.begin();
    cache.evict('s:other');
    cache.set('s:s1', aliceSession, 1000, revision);
    expect(cache.get('s:s1', 1000)).toBeUndefined();
  });

  it('forgets a user at once, and caches nothing of theirs for a window when the revocation is not committed yet', () => {
    const cache = new CredentialCache(5000, 60_000);
    cache.set('s:s1', aliceSession, 1000, cache.begin());
    cache.set('k:hash', bobKey, 1000, cache.begin());
    cache.evictUserBeforeCommit('alice', 2000);
    expect(cache.get('s:s1', 2000)).toBeUndefined();
    expect(cache.get('k:hash', 2000)?.user).toBe(bob);
    cache.set('s:s1', aliceSession, 3000, cache.begin());
    expect(cache.get('s:s1', 3000)).toBeUndefined();
    cache.set('s:s1', aliceSession, 7000, cache.begin());
    expect(cache.get('s:s1', 7000)?.isFresh).toBe(true);
    cache.evictUser('bob');
    expect(cache.get('k:hash', 7000)).toBeUndefined();
  });

  it('never answers for a credential past its own expiry, fresh or within the outage grace', () => {
    const cache = new CredentialCache(5000, 60_000);
    cache.set('k:soon', { ...bobKey, expiresAt: 3000 }, 1000, cache.begin());
    expect(cache.get('k:soon', 2999)).toEqual({ user: bob, apiKey: bobKey.apiKey, isFresh: true });
    expect(cache.get('k:soon', 3000)).toBeUndefined();
    cache.set('k:later', { ...bobKey, expiresAt: 10_000 }, 1000, cache.begin());
    expect(cache.get('k:later', 7000)?.isFresh).toBe(false);
    expect(cache.get('k:later', 10_000)).toBeUndefined();
    cache.set('k:gone', { ...bobKey, expiresAt: 1000 }, 1000, cache.begin());
    expect(cache.get('k:gone', 1000)).toBeUndefined();
  });

  it('keeps at most its bound, dropping the oldest, and caches nothing with a window of 0', () => {
    const cache = new CredentialCache(5000, 60_000, 2);
    for (const key of ['a', 'b', 'c']) cache.set(key, aliceSession, 1000, cache.begin());
    expect(cache.get('a', 1000)).toBeUndefined();
    expect(cache.get('c', 1000)?.user).toBe(alice);
    const off = new CredentialCache(0, 60_000);
    off.set('a', aliceSession, 1000, off.begin());
    expect(off.get('a', 1000)).toBeUndefined();
  });
});
