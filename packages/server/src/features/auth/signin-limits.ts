import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../../config.js';
import { httpErrors } from '../../http/errors.js';
import type { Platform } from '../../platform/platform.js';
import { isSharedStateUnavailable } from '../../platform/shared/errors.js';

/** How long each sign-in to an account past its account-wide ceiling is held: slowed, never refused. */
export const THROTTLE_DELAY_MS = 1000;

/**
 * The wait after the `failures`-th failure from one address on one account: none before `limit`,
 * then 1 s, doubling with each further failure, never longer than the window.
 */
export function backoffMs(failures: number, limit: number, windowMs: number): number {
  if (failures < limit) return 0;
  return Math.min(1000 * 2 ** Math.min(failures - limit, 40), windowMs);
}

/** An admitted attempt; hand it back to `succeeded` or `failed` once the password is checked. */
export interface SigninAttempt {
  readonly email: string;
  readonly ip: string;
  /** The owner of this pair's wait lease when this attempt took it, to give it back on success. */
  readonly waitOwner: string | null;
}

type Limits = Pick<Config, 'LOGIN_RATE_LIMIT' | 'LOGIN_RATE_LIMIT_PER_IP' | 'LOGIN_RATE_LIMIT_PER_ACCOUNT' | 'LOGIN_RATE_LIMIT_WINDOW'>;

/**
 * Sign-in abuse limits, kept in shared state so every instance counts together:
 * - per (account, client address): LOGIN_RATE_LIMIT attempts, then a wait before each further one
 *   that doubles per failure (`backoffMs`). An attacker's address waits; the owner's does not.
 * - per client address, across accounts: LOGIN_RATE_LIMIT_PER_IP failures, then that address is refused
 *   until the window ends (password spraying).
 * - per account, across addresses: past LOGIN_RATE_LIMIT_PER_ACCOUNT failures every attempt is slowed by
 *   THROTTLE_DELAY_MS and counted in a metric; the crossing is audited. Never a lock-out.
 * Counting is atomic: an attempt is counted against its pair before the password is checked, and
 * past the limit only the attempt that takes the pair's wait lease goes on, so a burst of parallel
 * guesses from one address gets no more tries than a patient one.
 */
export function createSigninLimits(platform: Pick<Platform, 'shared' | 'clock' | 'metrics'>, limits: Limits) {
  const { shared, clock, metrics } = platform;
  const windowMs = limits.LOGIN_RATE_LIMIT_WINDOW * 1000;
  // The address comes first: it never contains `|`, so no two (address, email) pairs share a key.
  const pairOf = (email: string, ip: string) => `${ip}|${email}`;

  return {
    /** Refuses an attempt (429) while its address or pair must wait; holds it while its account is throttled. */
    async admit(email: string, ip: string): Promise<SigninAttempt> {
      const pair = pairOf(email, ip);
      const [byAddress, waitingUntil, byAccount] = await Promise.all([
        shared.peek(`login:ip:${ip}`),
        // While Redis is away another instance's waits are unknown; this instance's own still hold (acquireLease below).
        shared.leaseOwner(`login:wait:${pair}`).catch((error: unknown) => {
          if (isSharedStateUnavailable(error)) return null;
          throw error;
        }),
        shared.peek(`login:account:${email}`),
      ]);
      if (byAddress >= limits.LOGIN_RATE_LIMIT_PER_IP) {
        throw httpErrors.rateLimited('Too many failed sign-in attempts from this address; try again later', windowMs);
      }
      if (waitingUntil !== null) {
        throw httpErrors.rateLimited('Too many failed sign-in attempts; wait before trying again', Number(waitingUntil) - clock.now());
      }
      const { count } = await shared.hit(`login:pair:${pair}`, limits.LOGIN_RATE_LIMIT, windowMs);
      let waitOwner: string | null = null;
      const waitMs = backoffMs(count, limits.LOGIN_RATE_LIMIT, windowMs);
      if (waitMs > 0) {
        // The lease's owner is when the wait ends, so a refused attempt can say how long is left.
        const owner = String(clock.now() + waitMs);
        if (!(await shared.acquireLease(`login:wait:${pair}`, owner, waitMs))) {
          throw httpErrors.rateLimited('Too many failed sign-in attempts; wait before trying again', waitMs);
        }
        waitOwner = owner;
      }
      if (byAccount >= limits.LOGIN_RATE_LIMIT_PER_ACCOUNT) {
        metrics.signinThrottled.inc();
        await sleep(THROTTLE_DELAY_MS);
      }
      return { email, ip, waitOwner };
    },

    /** Forgets the pair's attempts after the right password; the account's and address's counts stay. */
    async succeeded(attempt: SigninAttempt): Promise<void> {
      const pair = pairOf(attempt.email, attempt.ip);
      await Promise.all([
        shared.reset(`login:pair:${pair}`),
        attempt.waitOwner ? shared.releaseLease(`login:wait:${pair}`, attempt.waitOwner) : undefined,
      ]);
    },

    /** Counts a wrong password against the address and the account; true when this one crossed the account's ceiling. */
    async failed(attempt: SigninAttempt): Promise<boolean> {
      const [, account] = await Promise.all([
        shared.hit(`login:ip:${attempt.ip}`, limits.LOGIN_RATE_LIMIT_PER_IP, windowMs),
        shared.hit(`login:account:${attempt.email}`, limits.LOGIN_RATE_LIMIT_PER_ACCOUNT, windowMs),
      ]);
      return account.count === limits.LOGIN_RATE_LIMIT_PER_ACCOUNT;
    },
  };
}

export type SigninLimits = ReturnType<typeof createSigninLimits>;
