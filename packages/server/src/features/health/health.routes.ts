import type { App } from '../../http/app-types.js';
import type { Platform } from '../../platform/platform.js';

const pingTimeoutMs = 2000;

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    work,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms).unref()),
  ]);
}

/** Liveness (`/health`) and readiness (`/ready`) probes. */
export function healthRoutes(app: App, { db, storage, shared, lifecycle }: Platform): void {
  app.get('/health', { config: { access: 'public' }, logLevel: 'warn' }, async () => ({ status: true }));

  app.get('/ready', { config: { access: 'public' }, logLevel: 'warn' }, async (_request, reply) => {
    const checks: Record<string, string> = {};
    const probe = async (name: string, work: () => Promise<void>) => {
      try {
        await withTimeout(work(), pingTimeoutMs);
        checks[name] = 'ok';
      } catch (error) {
        checks[name] = error instanceof Error ? error.message : String(error);
      }
    };
    checks.lifecycle = lifecycle.isDraining ? 'draining' : 'ok';
    checks.migrations = lifecycle.isMigrated ? 'ok' : 'pending';
    await Promise.all([probe('database', () => db.ping()), probe('storage', () => storage.ping()), probe('shared', () => shared.ping())]);
    const isReady = Object.values(checks).every((value) => value === 'ok');
    return reply.status(isReady ? 200 : 503).send({ status: isReady, checks });
  });
}
