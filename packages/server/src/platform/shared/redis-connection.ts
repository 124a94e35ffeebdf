import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { SharedStateUnavailableError } from './errors.js';

/** Where Redis is: a URL, or Sentinels that know the master. */
export interface RedisTarget {
  redisUrl?: string;
  sentinelHosts?: string[];
  sentinelPort?: number;
  sentinelMasterName?: string;
}

/**
 * How long a command may wait (for the connection, then for its reply) before it fails as unavailable.
 * Bounded so that a dead socket costs a request at most this much: ResilientSharedState then serves
 * from memory without asking Redis at all until it answers again.
 */
export const commandTimeoutMs = 1000;
const connectTimeoutMs = 2000;
// Reconnect attempts are cheap (a refused connection costs nothing), and their delay is the floor
// of how soon an instance notices Redis is back: a few tries a second, not a backoff to seconds.
const maxReconnectDelayMs = 200;

// Fail fast while disconnected and reconnect forever: requests never wait on an outage, and the
// instance is back on Redis within a fraction of a second of its return.
const resilience: RedisOptions = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  // A command in flight when the connection dropped may or may not have run; resending it
  // could double an INCR or an XADD (a duplicated chunk), so it fails instead.
  autoResendUnfulfilledCommands: false,
  autoResubscribe: true,
  connectTimeout: connectTimeoutMs,
  commandTimeout: commandTimeoutMs,
  retryStrategy: (attempt: number) => Math.min(25 * 2 ** Math.min(attempt, 4), maxReconnectDelayMs),
  // After a failover the old master turns replica; reconnecting finds the new one (via Sentinel).
  reconnectOnError: (error: Error) => (error.message.startsWith('READONLY') ? 2 : false),
};

/** Builds the ioredis options for `target` (Open WebUI's conventions for Sentinel). */
export function redisOptionsFor(target: RedisTarget): { url?: string; options: RedisOptions } {
  const hosts = (target.sentinelHosts ?? []).map((host) => host.trim()).filter(Boolean);
  if (hosts.length === 0) {
    if (!target.redisUrl) throw new Error('createRedisClient needs a redisUrl or sentinelHosts');
    return { url: target.redisUrl, options: { ...resilience } };
  }
  // As in Open WebUI, with Sentinel the REDIS_URL names the master (its host) and carries credentials and db.
  const url = target.redisUrl ? new URL(target.redisUrl) : undefined;
  const sentinels = hosts.map((entry) => {
    const [host, port] = splitHostPort(entry);
    return { host, port: port ?? target.sentinelPort ?? 26379 };
  });
  return {
    options: {
      ...resilience,
      sentinels,
      name: target.sentinelMasterName ?? (url?.hostname || 'mymaster'),
      username: url?.username ? decodeURIComponent(url.username) : undefined,
      password: url?.password ? decodeURIComponent(url.password) : undefined,
      db: url && url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
      ...(url?.protocol === 'rediss:' ? { tls: {}, enableTLSForSentinelMode: true } : {}),
      // Sentinel tells us about a failover at once instead of our waiting for errors.
      failoverDetector: true,
      sentinelRetryStrategy: (attempt: number) => Math.min(50 * attempt, maxReconnectDelayMs),
    },
  };
}

function splitHostPort(entry: string): [string, number | undefined] {
  const bracketed = /^\[(.+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return [bracketed[1]!, bracketed[2] ? Number(bracketed[2]) : undefined];
  const parts = entry.split(':');
  if (parts.length === 2 && /^\d+$/.test(parts[1]!)) return [parts[0]!, Number(parts[1])];
  return [entry, undefined];
}

/** Creates the (not yet connected) command connection. */
export function createRedisClient(target: RedisTarget, extra: RedisOptions = {}): Redis {
  const { url, options } = redisOptionsFor(target);
  return url ? new Redis(url, { ...options, ...extra }) : new Redis({ ...options, ...extra });
}

// Reply errors that mean "not now" (loading, failing over) rather than a bad command.
const transientReply = /^(LOADING|READONLY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|BUSY|NOREPLICAS|UNBLOCKED)\b/;

/** Maps a failed Redis call to SharedStateUnavailableError, leaving genuine command errors as they are. */
export function toSharedStateError(error: unknown): Error {
  if (error instanceof SharedStateUnavailableError) return error;
  if (error instanceof Error && error.name === 'ReplyError' && !transientReply.test(error.message)) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new SharedStateUnavailableError(`Redis is unavailable: ${reason}`, { cause: error });
}

const errorLogIntervalMs = 10_000;

/**
 * Logs connection errors at most once per interval for each role (an outage retries
 * several times a second on every connection), and each role's recovery.
 */
export class ConnectionWatcher {
  private readonly roles = new Map<string, { lastLoggedAt: number; suppressed: number; isFailing: boolean }>();

  constructor(private readonly log: Logger) {}

  /** Attaches the logging listeners to `client`; without an error listener ioredis would print to stderr. */
  watch(client: Redis, role: string): void {
    client.on('error', (error: Error) => {
      const state = this.stateOf(role);
      state.isFailing = true;
      const now = Date.now();
      if (now - state.lastLoggedAt < errorLogIntervalMs) {
        state.suppressed += 1;
        return;
      }
      this.log.warn({ err: error, role, suppressed: state.suppressed }, 'redis connection error');
      state.lastLoggedAt = now;
      state.suppressed = 0;
    });
    client.on('ready', () => {
      const state = this.stateOf(role);
      if (state.isFailing) this.log.info({ role }, 'redis connection restored');
      state.isFailing = false;
    });
  }

  private stateOf(role: string) {
    let state = this.roles.get(role);
    if (!state) this.roles.set(role, (state = { lastLoggedAt: 0, suppressed: 0, isFailing: false }));
    return state;
  }
}

/**
 * Resolves once `client` is ready: at once when it is, after the connection attempt in
 * progress (waiting at most `timeoutMs`) when it is (re)connecting, and connecting it first when it never started.
 * Rejects at once when it is waiting to retry after a failure, so requests fail fast during an outage.
 */
export async function whenReady(client: Redis, timeoutMs = connectTimeoutMs): Promise<void> {
  if (client.status === 'ready') return;
  if (client.status === 'wait') {
    await client.connect().catch((error: unknown) => {
      throw toSharedStateError(error);
    });
    return;
  }
  if (client.status !== 'connecting' && client.status !== 'connect') {
    throw new SharedStateUnavailableError(`Redis is unavailable: connection ${client.status}`);
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => done(new SharedStateUnavailableError('Redis is unavailable: connect timed out')), timeoutMs);
    const onReady = () => done();
    const onClose = () => done(new SharedStateUnavailableError('Redis is unavailable: connection failed'));
    const done = (error?: Error) => {
      clearTimeout(timer);
      client.off('ready', onReady);
      client.off('close', onClose);
      if (error) reject(error);
      else resolve();
    };
    client.on('ready', onReady);
    client.on('close', onClose);
  });
}
