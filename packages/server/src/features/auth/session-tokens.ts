import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { SettingsService } from '../settings/settings.service.js';

/** Claims inside a session token: the user and the session (revocable in the database). */
export interface SessionClaims {
  userId: string;
  sessionId: string;
}

/** Where the generated secret is kept: the settings' key-value store, shared by every instance. */
export type SecretStore = Pick<SettingsService, 'claimSecret' | 'readSecret'>;

// The config key of the generated secret, used when WEBUI_SECRET_KEY is not set.
const storedSecretKey = 'webui_secret_key';

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
  static async load(store: SecretStore, configured: string | undefined): Promise<SessionTokens> {
    const secret = configured ?? (await loadOrCreateStoredSecret(store));
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

async function loadOrCreateStoredSecret(store: SecretStore): Promise<string> {
  // Concurrent first starts race here; the key is claimed once, so exactly one value wins and all read it.
  await store.claimSecret(storedSecretKey, randomBytes(32).toString('base64url'));
  const secret = await store.readSecret(storedSecretKey);
  if (secret === undefined) throw new Error('the stored session secret could not be read back');
  return secret;
}
