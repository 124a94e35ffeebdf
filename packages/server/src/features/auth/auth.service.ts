import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { durationToMs, type Config } from '../../config.js';
import type { AuthUser } from '../../http/access.js';
import type { AuditContext } from '../../http/audit-context.js';
import { httpErrors } from '../../http/errors.js';
import { apiKeyHint, generateApiKey, hashApiKey } from '../../platform/crypto/api-keys.js';
import { hashPassword, verifyPassword } from '../../platform/crypto/passwords.js';
import { isDatabaseUnavailable } from '../../platform/db/errors.js';
import type { Database, UserRow } from '../../platform/db/schema.js';
import type { Clock, Platform } from '../../platform/platform.js';
import type { AuditService } from '../audit/audit.service.js';
import type { SettingsService } from '../settings/settings.service.js';
import type { UsersService } from '../users/users.service.js';
import * as repo from './auth.repo.js';
import { CredentialCache } from './credential-cache.js';
import type { SessionTokens } from './session-tokens.js';

// The config key whose presence says the first account (the admin) exists.
const firstAdminKey = 'first_admin';

/** The credential cache of this instance, sized by AUTH_CACHE_TTL and AUTH_CACHE_OUTAGE_GRACE. */
export function createCredentialCache(config: Config): CredentialCache {
  return new CredentialCache(config.AUTH_CACHE_TTL * 1000, config.AUTH_CACHE_OUTAGE_GRACE * 1000);
}

/** What user administration does to sign-ins in its transactions (end sessions or all credentials, recheck them); this instance's cache forgets them at once. */
export function credentialRevokers(credentials: CredentialCache, clock: Clock) {
  return {
    /** Ends a user's sessions except `keep` (null: all of them), in the caller's transaction. */
    async revokeSessionsIn(trx: Kysely<Database>, userId: string, keep: string | null): Promise<void> {
      await repo.deleteOtherSessions(trx, userId, keep);
      credentials.evictUserBeforeCommit(userId, clock.now());
    },

    /** Ends every way a user signs in (sessions and API key), in the caller's transaction. */
    async revokeCredentialsIn(trx: Kysely<Database>, userId: string): Promise<void> {
      await repo.deleteOtherSessions(trx, userId, null);
      await repo.deleteApiKey(trx, userId);
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
  const { db, shared, clock, config } = platform;
  const sessionMs = durationToMs(config.JWT_EXPIRES_IN);
  const windowMs = config.LOGIN_RATE_LIMIT_WINDOW * 1000;

  async function issueSession(user: UserRow) {
    const now = clock.now();
    const sessionId = randomUUID();
    const expiresAt = sessionMs === null ? null : now + sessionMs;
    await repo.insertSession(db.kysely, { id: sessionId, user_id: user.id, created_at: now, expires_at: expiresAt });
    const token = await tokens.sign({ userId: user.id, sessionId }, now, expiresAt);
    return { user, token, expiresAt };
  }

  /**
   * The user behind a credential: from the cache while fresh, else from `lookup` (the database);
   * while the database cannot answer, from the cache within its outage grace.
   */
  async function verify(key: string, lookup: () => Promise<AuthRow | undefined>, sessionId: string | null): Promise<AuthUser | null> {
    const cached = credentials.get(key, clock.now());
    if (cached?.isFresh) return cached.user;
    const revision = credentials.begin();
    let row: AuthRow | undefined;
    try {
      row = await lookup();
    } catch (error) {
      if (cached && isDatabaseUnavailable(error)) return cached.user;
      throw error;
    }
    if (!row) {
      credentials.forget(key);
      return null;
    }
    const user = toAuthUser(row, sessionId);
    credentials.set(key, user, clock.now(), revision);
    return user;
  }

  async function isAdminClaimed(): Promise<boolean> {
    return (await settings.readValue(firstAdminKey)) !== undefined;
  }

  async function refuseIfLocked(email: string, ip: string): Promise<void> {
    const [byAccount, byIp] = await Promise.all([shared.peek(`login:account:${email}`), shared.peek(`login:ip:${ip}`)]);
    if (byAccount >= config.LOGIN_RATE_LIMIT || byIp >= config.LOGIN_RATE_LIMIT_PER_IP) {
      throw httpErrors.rateLimited('Too many failed sign-in attempts; try again later', windowMs);
    }
  }

  return {
    /** Creates an account; the first ever becomes admin, later ones get the default role. */
    async signup(input: { email: string; password: string; name: string }, context: AuditContext) {
      const email = input.email.toLowerCase();
      const current = await settings.get();
      if (!current.ENABLE_SIGNUP && (await isAdminClaimed())) {
        throw httpErrors.forbidden('Sign-up is disabled; ask an administrator for an account');
      }
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

    /** Checks credentials under per-account and per-IP limits on failures. */
    async signin(input: { email: string; password: string; ip: string }, context: AuditContext) {
      const email = input.email.toLowerCase();
      await refuseIfLocked(email, input.ip);
      const user = await users.findByEmail(email);
      if (!(await verifyPassword(user?.password_hash, input.password)) || !user) {
        await Promise.all([
          shared.hit(`login:account:${email}`, config.LOGIN_RATE_LIMIT, windowMs),
          shared.hit(`login:ip:${input.ip}`, config.LOGIN_RATE_LIMIT_PER_IP, windowMs),
        ]);
        // Refusals by the rate limit above are not recorded: they cost nothing, so they could flood the log.
        await audit.record(context, {
          action: 'auth.signin.failure',
          actor: { id: user?.id ?? null, email },
          target: user ? { type: 'user', id: user.id } : null,
          details: { reason: user ? 'wrong_password' : 'unknown_account' },
        });
        throw httpErrors.unauthenticated('Incorrect email or password');
      }
      await shared.reset(`login:account:${email}`);
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
        return verify(apiKeyEntry(keyHash), () => repo.findUserByApiKeyHash(db.kysely, keyHash), null);
      }
      const claims = await tokens.verify(credential);
      if (!claims) return null;
      const user = await verify(sessionEntry(claims.sessionId), () => repo.findUserBySession(db.kysely, claims.sessionId, claims.userId, clock.now()), claims.sessionId);
      // The signature binds the session to its user; a cached entry must agree as the query does.
      return user?.id === claims.userId ? user : null;
    },

    /** Revokes the caller's session: at once here, on other instances within AUTH_CACHE_TTL (the database is the source of truth). */
    async signout(user: AuthUser): Promise<void> {
      if (!user.sessionId) return;
      await repo.deleteSession(db.kysely, user.sessionId);
      credentials.evict(sessionEntry(user.sessionId));
    },

    /** The caller's full record. */
    async currentUser(user: AuthUser): Promise<UserRow> {
      const row = await users.find(user.id);
      if (!row) throw httpErrors.unauthenticated();
      return row;
    },

    /** Changes the password after checking the current one; other sessions are signed out. */
    async changePassword(user: AuthUser, current: string, next: string, context: AuditContext): Promise<void> {
      const row = await users.find(user.id);
      if (!row || !(await verifyPassword(row.password_hash, current))) {
        throw httpErrors.badRequest('Current password is incorrect');
      }
      await users.setPasswordHash(user.id, await hashPassword(next));
      await repo.deleteOtherSessions(db.kysely, user.id, user.sessionId);
      credentials.evictUser(user.id);
      await audit.record(context, { action: 'auth.password.changed', target: { type: 'user', id: user.id } });
    },

    /** Creates (or replaces) the caller's API key; the full key is returned only now. */
    async createApiKey(user: AuthUser, context: AuditContext): Promise<string> {
      const key = generateApiKey();
      const keyId = randomUUID();
      await db.kysely.transaction().execute(async (trx) => {
        await repo.replaceApiKey(trx, {
          id: keyId,
          user_id: user.id,
          key_hash: hashApiKey(key),
          key_hint: apiKeyHint(key),
          created_at: clock.now(),
        });
        await audit.recordIn(trx, context, { action: 'auth.api_key.created', target: { type: 'user', id: user.id }, details: { key_id: keyId } });
      });
      // The key it replaced stops working here at once.
      credentials.evictUser(user.id);
      return key;
    },

    /** The caller's API key, masked. */
    async getApiKey(user: AuthUser) {
      const row = await repo.findApiKeyByUser(db.kysely, user.id);
      if (!row) throw httpErrors.notFound('API key');
      return row;
    },

    /** Revokes the caller's API key. */
    async deleteApiKey(user: AuthUser, context: AuditContext): Promise<void> {
      if (!(await repo.deleteApiKey(db.kysely, user.id))) throw httpErrors.notFound('API key');
      credentials.evictUser(user.id);
      await audit.record(context, { action: 'auth.api_key.revoked', target: { type: 'user', id: user.id } });
    },
  };
}

export type AuthService = ReturnType<typeof createAuthService>;
