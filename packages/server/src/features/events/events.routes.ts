import type { App } from '../../http/app-types.js';
import { callerOf } from '../../http/access.js';
import { eventStreamHeaders, sseComment, sseEvent } from '../../http/sse.js';
import type { EventsService } from './events.service.js';

const heartbeatMs = 15_000;

/** `GET /api/v1/events`: a server-sent event stream of the caller's events (approved users only, a few streams each). */
export function eventsRoutes(app: App, events: EventsService): void {
  app.get('/api/v1/events', { config: { access: 'verified' } }, async (request, reply) => {
    const user = callerOf(request);
    const res = reply.raw;
    // Registered before the stream starts, so a refusal (too many streams) is still an ordinary JSON answer.
    const disconnect = events.connect(user.id, {
      send: (event) => res.write(sseEvent(JSON.stringify(event), { event: event.type })),
      end: () => res.end(),
    });
    reply.hijack();
    res.writeHead(200, { ...eventStreamHeaders, 'x-request-id': request.id });
    res.write(sseComment('connected'));
    // Comments keep idle proxies from closing the connection.
    const heartbeat = setInterval(() => res.write(sseComment('ping')), heartbeatMs);
    await new Promise<void>((resolve) => {
      res.on('close', resolve);
      // A client gone before the stream started must not hold one of its places for good.
      if (request.raw.socket.destroyed) resolve();
    });
    clearInterval(heartbeat);
    disconnect();
  });
}
