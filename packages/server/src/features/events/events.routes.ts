import type { App } from '../../http/app-types.js';
import { callerOf } from '../../http/access.js';
import { eventStreamHeaders } from '../completions/openai-writers.js';
import type { EventsService } from './events.service.js';

const heartbeatMs = 15_000;

/**
 * `GET /api/v1/events`: a server-sent event stream of the caller's events; and a
 * hook that announces every successful change to a chat made through the API.
 */
export function eventsRoutes(app: App, events: EventsService): void {
  app.get('/api/v1/events', { config: { access: 'signedIn' } }, async (request, reply) => {
    const user = callerOf(request);
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { ...eventStreamHeaders, 'x-request-id': request.id });
    res.write(': connected\n\n');
    const disconnect = events.connect(user.id, {
      send: (event) => res.write(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`),
      end: () => res.end(),
    });
    // Comments keep idle proxies from closing the connection.
    const heartbeat = setInterval(() => res.write(': ping\n\n'), heartbeatMs);
    await new Promise<void>((resolve) => res.on('close', resolve));
    clearInterval(heartbeat);
    disconnect();
  });

  app.addHook('onResponse', async (request, reply) => {
    if (request.method === 'GET' || reply.statusCode >= 400 || !request.user) return;
    const url = request.routeOptions.url ?? '';
    if (!url.startsWith('/api/v1/chats')) return;
    const chatId = (request.params as { id?: string } | undefined)?.id ?? null;
    events.publish(request.user.id, { type: request.method === 'DELETE' ? 'chat:deleted' : 'chat:changed', chat_id: chatId });
  });
}
