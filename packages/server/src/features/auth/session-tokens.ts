import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import { sql } from 'kysely';
import type { Db } from '../../platform/db/connect.js';

/** Claims inside a session token: the user and the session (revocable in the database). */
export interface SessionClaims {
  userId: string;
  sessionId: string;
}

/** How many verified tokens are remembered (a few hundred bytes each). */
const VERIFIED_TOKENS_KEPT = 10_000;

/** Signs and verifies session tokens (HS256 JWTs) with the cluster's shared secret. */
export class SessionTokens {
  /**
   * Tokens whose signature was already checked, with their expiry (ms, null for never). The
   * check is a thread-pool round trip on every request otherwise; revocation is still looked up
   * in the database each time, so remembering a signature changes nothing about sign-out.
   */
  private readonly verified = new Map<string, { claims: SessionClaims; expiresAt: number | null }>();

  // A KeyObject made once: jose would otherwise import raw key bytes on every verification.
  private constructor(private readonly key: KeyObject) {}

  /** Uses WEBUI_SECRET_KEY, or the key stored in the database (created once, agreed by all instances). */
  static async load(db: Db, configured: string | undefined, now: number): Promise<SessionTokens> {
    const secret = configured ?? (await loadOrCreateStoredSecret(db, now));
    return new SessionTokens(createSecretKey(Buffer.from(secret, 'utf8')));
  }

  /** Issues a token for the session; expiresAt null means it never expires. */
  sign(claims: SessionClaims, issuedAt: number, expiresAt: number | null): Promise<string> {
    const jwt = new SignJWT({ id: claims.userId })
      .setProtectedHeader({ alg: 'HS256' })
      .setJti(claims.sessionId)
      .setIssuedAt(Math.floor(issuedAt / 1000));
    if (expiresAt !== null) jwt.setExpirationTime(Math.floor(expiresAt / 1000));
    return jwt.sign(this.key);
  }

  /** Returns the claims of a well-formed, correctly signed, unexpired token, else null. */
  async verify(token: string): Promise<SessionClaims | null> {
    const known = this.verified.get(token);
    if (known) {
      if (known.expiresAt === null || known.expiresAt > Date.now()) return known.claims;
      this.verified.delete(token);
      return null;
    }
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'] });
      if (typeof payload.id !== 'string' || typeof payload.jti !== 'string') return null;
      const claims = { userId: payload.id, sessionId: payload.jti };
      if (this.verified.size >= VERIFIED_TOKENS_KEPT) this.verified.delete(this.verified.keys().next().value!);
      this.verified.set(token, { claims, expiresAt: payload.exp === undefined ? null : payload.exp * 1000 });
      return claims;
    } catch {
      return null;
    }
  }
}

async function loadOrCreateStoredSecret(db: Db, now: number): Promise<string> {
  const candidate = randomBytes(32).toString('base64url');
  // Concurrent first starts race here; the primary key lets exactly one value win.
  await db.kysely
    .insertInto('config')
    .values({ key: 'webui_secret_key', value: candidate, updated_at: now })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db.kysely
    .selectFrom('config')
    .select('value')
    .where('key', '=', sql.lit('webui_secret_key'))
    .executeTakeFirstOrThrow();
  return row.value;
}
