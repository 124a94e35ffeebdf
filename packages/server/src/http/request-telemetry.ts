import { performance } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import type { Metrics } from '../platform/telemetry/metrics.js';

/** Reads the active trace id, when tracing is on; set by the tracing module. */
export type TraceIdSource = () => string | undefined;

/**
 * One log line and one set of metrics per request, taken when the response is
 * finished or the client went away, so streamed (hijacked) responses count too.
 */
export function installRequestTelemetry(app: FastifyInstance, metrics: Metrics, traceId: TraceIdSource = () => undefined): void {
  app.addHook('onRequest', async (request, reply) => {
    const started = performance.now();
    const trace = traceId();
    // `on`, not `once`: 'close' comes once anyway, and `once` adds a wrapper object per request.
    reply.raw.on('close', () => {
      const seconds = (performance.now() - started) / 1000;
      const route = request.routeOptions.url ?? 'unmatched';
      const status = reply.raw.statusCode;
      const isAborted = !reply.raw.writableFinished;
      metrics.httpRequests.inc({ route, method: request.method, status });
      metrics.httpDuration.observe({ route, method: request.method, status_class: `${Math.floor(status / 100)}xx` }, seconds);
      const line = {
        userId: request.user?.id,
        method: request.method,
        route,
        status,
        ms: Math.round(seconds * 10_000) / 10,
        ...(isAborted ? { aborted: true } : {}),
        ...(trace ? { traceId: trace } : {}),
      };
      if (status >= 500) request.log.warn(line, 'request');
      else request.log.info(line, 'request');
    });
  });
}
