import type { App } from '../../http/app-types.js';
import { callerOf } from '../../http/access.js';
import { eventStreamHeaders, sseComment, sseEvent } from '../../http/sse.js';
import type { EventsService } from './events.service.js';

const heartbeatMs = 15_000;

/** `GET /api/v1/events`: a server-sent event stream of the caller's events. */
export function eventsRoutes(app: App, events: EventsService): void {
  app.get('/api/v1/events', { config: { access: 'signedIn' } }, async (request, reply) => {
    const user = callerOf(request);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { ...eventStreamHeaders, 'x-request-id': request.id });
    res.write(sseComment('connected'));
    const disconnect = events.connect(user.id, {
      send: (event) => res.write(sseEvent(JSON.stringify(event), { event: event.type })),
      end: () => res.end(),
    });
    // Comments keep idle proxies from closing the connection.
    const heartbeat = setInterval(() => res.write(sseComment('ping')), heartbeatMs);
    await new Promise<void>((resolve) => res.on('close', resolve));
    clearInterval(heartbeat);
    disconnect();
  });
}
