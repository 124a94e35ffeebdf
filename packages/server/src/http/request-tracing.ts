import type { FastifyInstance } from 'fastify';
import { startServerSpan } from '../platform/telemetry/tracing.js';

/** Probes and scrapes arrive every few seconds and are not worth a trace. */
const untracedRoutes = new Set(['/health', '/ready', '/metrics']);

/**
 * One server span per request, named after the route template (`POST /api/chats/:id`),
 * active for every hook and handler after this one so database, Redis and upstream spans
 * become its children. It ends when the response is finished or the client went away, so
 * streamed (hijacked) responses are covered. Our own hook, not the generic HTTP and
 * Fastify instrumentations: those wrap every request and response in several layers, and
 * cost a third of tracing's overhead on a streaming relay.
 */
export function installRequestTracing(app: FastifyInstance): void {
  app.addHook('onRequest', (request, reply, done) => {
    const route = request.routeOptions.url;
    if (route !== undefined && untracedRoutes.has(route)) return done();
    const span = startServerSpan(route === undefined ? request.method : `${request.method} ${route}`, request.headers);
    // An unsampled span records nothing and its end does nothing: no attributes, no listener.
    if (span.isRecording) {
      span.annotate({
        'http.request.method': request.method,
        'url.path': request.url.split('?', 1)[0]!,
        ...(route === undefined ? {} : { 'http.route': route }),
      });
      reply.raw.on('close', () => {
        const status = reply.raw.statusCode;
        span.end(
          { 'http.response.status_code': status, ...(reply.raw.writableFinished ? {} : { 'parley.aborted': true }) },
          status >= 500 ? `HTTP ${status}` : undefined,
        );
      });
    }
    span.run(done);
  });
}
