import { createServer, type Server } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { App } from './app-types.js';
import { httpErrors } from './errors.js';
import type { Metrics } from '../platform/telemetry/metrics.js';

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.replace(/^Bearer\s+/i, '') ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** `GET /metrics` on the main port, behind METRICS_TOKEN when one is set. */
export function metricsRoute(app: App, metrics: Metrics, token: string | undefined): void {
  app.get('/metrics', { config: { access: 'public' }, logLevel: 'warn' }, async (request, reply) => {
    if (token && !tokenMatches(request.headers.authorization, token)) throw httpErrors.unauthenticated('A valid METRICS_TOKEN is required');
    return reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics());
  });
}

/** A separate listener serving only `/metrics` (METRICS_PORT), for scraping off the public port. */
export async function startMetricsServer(metrics: Metrics, port: number, host: string): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ detail: 'Not found', code: 'not_found' }));
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return server;
}
