import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { durationToMs, type Config } from '../../config.js';
import type { AuthUser } from '../../http/access.js';
import type { AuditContext } from '../../http/audit-context.js';
import { httpErrors } from '../../http/errors.js';
import { hashApiKey } from '../../platform/crypto/api-keys.js';
import { hashPassword, verifyPassword } from '../../platform/crypto/passwords.js';
import { isDatabaseUnavailable } from '../../platform/db/errors.js';
import type { Database, UserRow } from '../../platform/db/schema.js';
import type { Clock, Platform } from '../../platform/platform.js';
import type { AuditService } from '../audit/audit.service.js';
import type { SettingsService } from '../settings/settings.service.js';
import type { UsersService } from '../users/users.service.js';
import { ApiKeyUsage, API_KEY_USAGE_INTERVAL_MS } from './api-key-usage.js';
import { createApiKeyOperations } from './api-keys.js';
import * as repo from './auth.repo.js';
import { CredentialCache, type VerifiedCredential } from './credential-cache.js';
import type { SessionTokens } from './session-tokens.js';
import { createSigninLimits } from './signin-limits.js';

// The config key whose presence says the first account (the admin) exists.
const firstAdminKey = 'first_admin';

// SIGNUP_RATE_LIMIT_PER_IP counts sign-up attempts per address per hour.
const signupWindowMs = 3_600_000;

/** The credential cache of this instance, sized by AUTH_CACHE_TTL and AUTH_CACHE_OUTAGE_GRACE. */
export function createCredentialCache(config: Config): CredentialCache {
  return new CredentialCache(config.AUTH_CACHE_TTL * 1000, config.AUTH_CACHE_OUTAGE_GRACE * 1000);
}

/** What user administration does to sign-ins in its transactions (end sessions, API keys or both, recheck them); this instance's cache forgets them at once. */
export function credentialRevokers(credentials: CredentialCache, clock: Clock) {
  return {
    /** Ends a user's sessions except `keep` (null: all of them), in the caller's transaction. */
    async revokeSessionsIn(trx: Kysely<Database>, userId: string, keep: string | null): Promise<void> {
      await repo.deleteOtherSessions(trx, userId, keep);
      credentials.evictUserBeforeCommit(userId, clock.now());
    },

    /** Revokes all of a user's API keys, in the caller's transaction. */
    async revokeApiKeysIn(trx: Kysely<Database>, userId: string): Promise<void> {
      await repo.deleteApiKeys(trx, userId);
      credentials.evictUserBeforeCommit(userId, clock.now());
    },

    /** Ends every way a user signs in (sessions and API keys), in the caller's transaction. */
    async revokeCredentialsIn(trx: Kysely<Database>, userId: string): Promise<void> {
      await repo.deleteOtherSessions(trx, userId, null);
      await repo.deleteApiKeys(trx, userId);
      credentials.evictUserBeforeCommit(userId, clock.now());
    },

    /** Makes this instance read the user's role (and name, email) again on their next request; the caller's transaction changed them. */
    async recheckCredentialsIn(_trx: Kysely<Database>, userId: string): Promise<void> {
      credentials.evictUserBeforeCommit(userId, clock.now());
    },
  };
}

/** What the credential lookups read of the user. */
type AuthRow = Pick<AuthUser, 'id' | 'email' | 'name' | 'role'>;

/** Cache keys: sessions by id, API keys by hash (the key itself is never kept). */
const sessionEntry = (sessionId: string) => `s:${sessionId}`;
const apiKeyEntry = (keyHash: string) => `k:${keyHash}`;

/** The caller from a looked-up row, spelled out so every request's user shares one hidden class (a spread of a driver row does not). */
function toAuthUser(row: AuthRow, sessionId: string | null): AuthUser {
  return { id: row.id, email: row.email, name: row.name, role: row.role, sessionId };
}

/**
 * Sign-up, sign-in, sessions, passwords and API keys. `credentials` is the cache that spares
 * each request its database lookup (see CredentialCache for the revocation window).
 */
export function createAuthService(
  platform: Platform,
  tokens: SessionTokens,
  settings: SettingsService,
  users: UsersService,
  audit: AuditService,
  credentials: CredentialCache,
) {
  const { db, shared, clock, config, log } = platform;
  const sessionMs = durationToMs(config.JWT_EXPIRES_IN);
  const limits = createSigninLimits(platform, config);
  const keyUsage = new ApiKeyUsage();

  async function issueSession(user: UserRow) {
    const now = clock.now();
    const sessionId = randomUUID();
    const expiresAt = sessionMs === null ? null : now + sessionMs;
    await repo.insertSession(db.kysely, { id: sessionId, user_id: user.id, created_at: now, expires_at: expiresAt });
    const token = await tokens.sign({ userId: user.id, sessionId }, now, expiresAt);
    return { user, token, expiresAt };
  }

  /**
   * What a credential stands for: from the cache while fresh, else from `lookup` (the database);
   * while the database cannot answer, from the cache within its outage grace.
   */
  async function verify(key: string, lookup: () => Promise<VerifiedCredential | undefined>): Promise<Omit<VerifiedCredential, 'expiresAt'> | null> {
    const cached = credentials.get(key, clock.now());
    if (cached?.isFresh) return cached;
    const revision = credentials.begin();
    let found: VerifiedCredential | undefined;
    try {
      found = await lookup();
    } catch (error) {
      if (cached && isDatabaseUnavailable(error)) return cached;
      throw error;
    }
    if (!found) {
      credentials.forget(key);
      return null;
    }
    credentials.set(key, found, clock.now(), revision);
    return found;
  }

  /** The user owning an unexpired API key, with the key's expiry and last use (kept in the cache with it). */
  async function lookUpApiKey(keyHash: string): Promise<VerifiedCredential | undefined> {
    const row = await repo.findUserByApiKeyHash(db.kysely, keyHash, clock.now());
    return row && { user: toAuthUser(row, null), expiresAt: row.expires_at, apiKey: { id: row.key_id, lastUsedAt: row.last_used_at } };
  }

  /** The user behind a live session. */
  async function lookUpSession(sessionId: string, userId: string): Promise<VerifiedCredential | undefined> {
    const row = await repo.findUserBySession(db.kysely, sessionId, userId, clock.now());
    return row && { user: toAuthUser(row, sessionId), expiresAt: null, apiKey: null };
  }

  async function isAdminClaimed(): Promise<boolean> {
    return (await settings.readValue(firstAdminKey)) !== undefined;
  }

  /**
   * Counts every sign-up attempt that gets as far as the email check, answered 409 or not, so the
   * 409 tells an address no more registered emails per hour than the limit.
   */
  async function refuseManySignups(ip: string): Promise<void> {
    if (config.SIGNUP_RATE_LIMIT_PER_IP === 0) return;
    const { allowed, retryAfterMs } = await shared.hit(`signup:ip:${ip}`, config.SIGNUP_RATE_LIMIT_PER_IP, signupWindowMs);
    if (!allowed) throw httpErrors.rateLimited('Too many sign-ups from this address; try again later', retryAfterMs);
  }

  /** Writes a key's last use in the background, at most once a minute per key: never on the request's path. */
  function recordKeyUse(keyId: string, lastUsedAt: number | null): void {
    const now = clock.now();
    if (!keyUsage.shouldRecord(keyId, lastUsedAt, now)) return;
    repo.markApiKeyUsed(db.kysely, keyId, now, now - API_KEY_USAGE_INTERVAL_MS).catch((error: unknown) => {
      log.warn({ err: error }, 'could not record an API key\'s last use');
    });
  }

  return {
    /** Creates an account; the first ever becomes admin, later ones get the default role while sign-up is on. */
    async signup(input: { email: string; password: string; name: string; ip: string }, context: AuditContext) {
      const email = input.email.toLowerCase();
      const current = await settings.get();
      if (!current.ENABLE_SIGNUP && (await isAdminClaimed())) {
        throw httpErrors.forbidden('Sign-up is disabled; ask an administrator for an account');
      }
      users.checkPassword(input.password);
      await refuseManySignups(input.ip);
      if (await users.findByEmail(email)) throw httpErrors.conflict('An account with this email already exists');
      const passwordHash = await hashPassword(input.password);
      const now = clock.now();
      const user: UserRow = {
        id: randomUUID(),
        email,
        name: input.name,
        role: current.DEFAULT_USER_ROLE,
        password_hash: passwordHash,
        profile_image_url: '',
        settings: '{}',
        created_at: now,
        updated_at: now,
        last_active_at: now,
      };
      try {
        await db.kysely.transaction().execute(async (trx) => {
          await users.createIn(trx, user);
          if (await settings.claimIn(trx, firstAdminKey, user.id)) {
            user.role = 'admin';
            await users.setRoleIn(trx, user.id, 'admin', now);
          } else if (!(await settings.getIn(trx)).ENABLE_SIGNUP) {
            // Another sign-up became the first admin while this one was on its way: with sign-up off,
            // only that one may stay. The claim above waited for it, so this read sees the setting it saw.
            throw httpErrors.forbidden('Sign-up is disabled; ask an administrator for an account');
          }
          await audit.recordIn(trx, context, {
            action: 'auth.signup',
            actor: { id: user.id, email },
            target: { type: 'user', id: user.id },
            details: { name: user.name, role: user.role },
          });
        });
      } catch (error) {
        // Two sign-ups with one email racing past the check above: the unique index decides.
        if (await users.findByEmail(email)) throw httpErrors.conflict('An account with this email already exists');
        throw error;
      }
      return issueSession(user);
    },

    /** Checks credentials under the sign-in limits (see `createSigninLimits`). */
    async signin(input: { email: string; password: string; ip: string }, context: AuditContext) {
      const email = input.email.toLowerCase();
      // Refusals by the limits are not audited: they cost nothing, so they could flood the log.
      const attempt = await limits.admit(email, input.ip);
      const user = await users.findByEmail(email);
      if (!(await verifyPassword(user?.password_hash, input.password)) || !user) {
        const crossedCeiling = await limits.failed(attempt);
        await audit.record(context, {
          action: 'auth.signin.failure',
          actor: { id: user?.id ?? null, email },
          target: user ? { type: 'user', id: user.id } : null,
          details: { reason: user ? 'wrong_password' : 'unknown_account' },
        });
        if (crossedCeiling) {
          await audit.record(context, {
            action: 'auth.signin.throttled',
            actor: { id: null, email },
            target: user ? { type: 'user', id: user.id } : null,
            details: { failures: config.LOGIN_RATE_LIMIT_PER_ACCOUNT, window_seconds: config.LOGIN_RATE_LIMIT_WINDOW },
          });
        }
        throw httpErrors.unauthenticated('Incorrect email or password');
      }
      await limits.succeeded(attempt);
      const session = await issueSession(user);
      await audit.record(context, { action: 'auth.signin.success', actor: { id: user.id, email }, target: { type: 'user', id: user.id } });
      return session;
    },

    /** True until the first account (the admin) exists: the web app then shows onboarding. */
    async isOnboarding(): Promise<boolean> {
      return !(await isAdminClaimed());
    },

    /** Resolves a session token or API key to its user, or null; recently checked ones without a database query. */
    async authenticate(credential: string): Promise<AuthUser | null> {
      if (credential.startsWith('sk-')) {
        const keyHash = hashApiKey(credential);
        const found = await verify(apiKeyEntry(keyHash), () => lookUpApiKey(keyHash));
        if (!found) return null;
        // Cached or not, the use is noted, and written in the background at most once a minute.
        if (found.apiKey) recordKeyUse(found.apiKey.id, found.apiKey.lastUsedAt);
        return found.user;
      }
      const claims = await tokens.verify(credential);
      if (!claims) return null;
      const user = (await verify(sessionEntry(claims.sessionId), () => lookUpSession(claims.sessionId, claims.userId)))?.user;
      // The signature binds the session to its user; a cached entry must agree as the query does.
      return user?.id === claims.userId ? user : null;
    },

    /** Revokes the caller's session: at once here, on other instances within AUTH_CACHE_TTL (the database is the source of truth); an API key has none to end. */
    async signout(user: AuthUser): Promise<void> {
      if (!user.sessionId) {
        throw httpErrors.badRequest('An API key has no session to sign out of; revoke the key instead (DELETE /api/v1/auths/api_keys/{id})');
      }
      await repo.deleteSession(db.kysely, user.sessionId);
      credentials.evict(sessionEntry(user.sessionId));
    },

    /** The caller's full record. */
    async currentUser(user: AuthUser): Promise<UserRow> {
      const row = await users.find(user.id);
      if (!row) throw httpErrors.unauthenticated();
      return row;
    },

    /** Changes the password after checking the current one; other sessions and every API key are revoked. */
    async changePassword(user: AuthUser, current: string, next: string, context: AuditContext): Promise<void> {
      const row = await users.find(user.id);
      if (!row || !(await verifyPassword(row.password_hash, current))) {
        throw httpErrors.badRequest('Current password is incorrect');
      }
      users.checkPassword(next);
      const passwordHash = await hashPassword(next);
      await db.kysely.transaction().execute(async (trx) => {
        await users.setPasswordHashIn(trx, user.id, passwordHash);
        await repo.deleteOtherSessions(trx, user.id, user.sessionId);
        const revoked = await repo.deleteApiKeys(trx, user.id);
        await audit.recordIn(trx, context, { action: 'auth.password.changed', target: { type: 'user', id: user.id }, details: { api_keys_revoked: revoked } });
      });
      // The other sessions and the keys stop working here at once.
      credentials.evictUser(user.id);
    },

    ...createApiKeyOperations(platform, audit, credentials),
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
