import type { App } from '../../http/app-types.js';
import type { Platform } from '../../platform/platform.js';

const pingTimeoutMs = 2000;

/** `ok`, or why the probe failed. */
async function probe(work: () => Promise<void>): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      work(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${pingTimeoutMs} ms`)), pingTimeoutMs);
      }),
    ]);
    return 'ok';
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    clearTimeout(timer);
  }
}

/** The state of each dependency: `ok`, or what is wrong with it (in-process shared state is always `ok`). */
function dependencyChecks({ db, storage, shared }: Platform, hasRedis: boolean) {
  return async (): Promise<{ database: string; storage: string; shared: string }> => {
    const [database, store, redis] = await Promise.all([probe(() => db.ping()), probe(() => storage.ping()), probe(() => shared.ping())]);
    // Answering a ping is not all: until what was kept in memory is handed over, the instance still serves from it.
    const sharedCheck = redis === 'ok' && shared.isDegraded() ? 'handing the outage over to Redis' : redis;
    return { database, storage: store, shared: hasRedis ? sharedCheck : 'ok' };
  };
}

/**
 * Liveness (`/health`) and readiness (`/ready`) probes, and the `parley_dependency_up` gauge.
 * Readiness says whether *this* instance can serve: not draining, migrated, and its database
 * reachable. Redis and the object store are reported (`degraded`) but do not fail it: without Redis
 * the instance serves from its own memory, without the store everything but files works.
 */
export function healthRoutes(app: App, platform: Platform): void {
  const { lifecycle, metrics, config } = platform;
  const hasRedis = Boolean(config.REDIS_URL || config.REDIS_SENTINEL_HOSTS?.trim());
  const check = dependencyChecks(platform, hasRedis);
  metrics.measureDependenciesWith(async () => {
    const checks = await check();
    return { database: checks.database === 'ok', storage: checks.storage === 'ok', ...(hasRedis ? { redis: checks.shared === 'ok' } : {}) };
  });

  app.get('/health', { config: { access: 'public' }, logLevel: 'warn' }, async () => ({ status: true }));

  app.get('/ready', { config: { access: 'public' }, logLevel: 'warn' }, async (_request, reply) => {
    const { database, storage, shared } = await check();
    const required = {
      lifecycle: lifecycle.isDraining ? 'draining' : 'ok',
      migrations: lifecycle.isMigrated ? 'ok' : 'pending',
      database,
    };
    const isReady = Object.values(required).every((value) => value === 'ok');
    const degraded = Object.entries({ shared, storage })
      .filter(([, value]) => value !== 'ok')
      .map(([name]) => name);
    const reported = (value: string) => (value === 'ok' ? 'ok' : `degraded: ${value}`);
    return reply
      .status(isReady ? 200 : 503)
      .send({ status: isReady, checks: { ...required, shared: reported(shared), storage: reported(storage) }, degraded });
  });
}
