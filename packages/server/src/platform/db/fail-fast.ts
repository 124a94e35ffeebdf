import { DatabaseUnavailableError } from './errors.js';

// Failures to open a connection that mean the server is not there, as opposed to a full pool
// (pg-pool's "timeout exceeded when trying to connect") or a refused login.
const connectFailureCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', '57P01', '57P02', '57P03']);

/** True when opening a connection failed because the server cannot be reached (or is starting or stopping). */
export function isConnectFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && connectFailureCodes.has(code)) return true;
  return /Connection terminated (due to connection timeout|unexpectedly)/i.test(error.message);
}

/** The part of a pg pool Kysely uses. */
export interface ConnectingPool<Client> {
  connect(): Promise<Client>;
  end(): Promise<void>;
}

/** A pool that fails at once while the database is known to be down, and how to tell it so. */
export interface FailFastPool<Client> extends ConnectingPool<Client> {
  /** False from a failed connection attempt until a probe (or any query) succeeds. */
  isAvailable(): boolean;
  /** Evidence that the database answers (a query succeeded): stops failing fast at once. */
  markAvailable(): void;
}

/**
 * Wraps `pool` so that, once opening a connection failed because the server is unreachable,
 * every request for a connection fails at once with DatabaseUnavailableError instead of each
 * waiting on its own attempt (up to DATABASE_POOL_TIMEOUT when the server does not answer).
 * Meanwhile `probe` runs every `probeIntervalMs` (one at a time) and the first success, or any
 * query that succeeds on a connection already open, ends the outage: recovery takes at most
 * one interval plus a connection's set-up once the server is back.
 */
export function failFastPool<Client>(pool: ConnectingPool<Client>, probe: () => Promise<void>, probeIntervalMs = 200): FailFastPool<Client> {
  let isDown = false;
  let isEnded = false;
  let timer: NodeJS.Timeout | undefined;

  function scheduleProbe(): void {
    if (isEnded || !isDown || timer) return;
    timer = setTimeout(() => {
      probe().then(
        () => {
          timer = undefined;
          isDown = false;
        },
        () => {
          timer = undefined;
          scheduleProbe();
        },
      );
    }, probeIntervalMs);
    timer.unref();
  }

  return {
    async connect() {
      if (isDown) throw new DatabaseUnavailableError();
      try {
        return await pool.connect();
      } catch (error) {
        if (isConnectFailure(error)) {
          isDown = true;
          scheduleProbe();
        }
        throw error;
      }
    },
    end() {
      isEnded = true;
      clearTimeout(timer);
      return pool.end();
    },
    isAvailable: () => !isDown,
    markAvailable() {
      isDown = false;
    },
  };
}
