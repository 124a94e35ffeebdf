import { Readable } from 'node:stream';
import type { App } from '../../http/app-types.js';
import { callerOf } from '../../http/access.js';
import { toChatResponse, toChatsJsonArray, toChatsNdjson, toChatSummary, toMessageResponse } from './chats.presenter.js';
import {
  addMessageBody,
  chatBody,
  chatParams,
  cloneBody,
  importBody,
  messageParams,
  pageQuery,
  searchQuery,
  setCurrentBody,
} from './chats.schema.js';
import type { ChatsService, FullChat } from './chats.service.js';

const present = (full: FullChat) => toChatResponse(full.chat, full.messages);

/** Whether an Accept header asks for NDJSON (`application/x-ndjson`, as Open WebUI's client sends), not refused with q=0. */
export function asksForNdjson(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((range) => {
    const [type, ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    const isRefused = params.some((param) => /^q=0(\.0*)?$/.test(param));
    return (type === 'application/x-ndjson' || type === 'application/ndjson') && !isRefused;
  });
}

/** Open WebUI's /api/v1/chats endpoints, plus Parley's message-tree endpoints; every chat is the caller's own. */
export function chatsRoutes(app: App, chats: ChatsService): void {
  const base = '/api/v1/chats';
  const verified = { access: 'verified' } as const;

  app.post(`${base}/new`, { config: verified, schema: { body: chatBody } }, async (request) =>
    present(await chats.create(callerOf(request).id, request.body.chat)),
  );

  for (const path of [`${base}/`, `${base}/list`]) {
    app.get(path, { config: verified, schema: { querystring: pageQuery } }, async (request) =>
      (await chats.list(callerOf(request).id, { isArchived: false }, request.query)).map(toChatSummary),
    );
  }

  app.get(`${base}/search`, { config: verified, schema: { querystring: searchQuery } }, async (request) =>
    (await chats.list(callerOf(request).id, { isArchived: false, text: request.query.text }, request.query)).map(toChatSummary),
  );

  app.get(`${base}/pinned`, { config: verified, schema: { querystring: pageQuery } }, async (request) =>
    (await chats.list(callerOf(request).id, { isArchived: false, isPinned: true }, request.query)).map(toChatSummary),
  );

  app.get(`${base}/archived`, { config: verified, schema: { querystring: pageQuery } }, async (request) =>
    (await chats.list(callerOf(request).id, { isArchived: true }, request.query)).map(toChatSummary),
  );

  // Streamed, a chat at a time: NDJSON for clients that ask for it as Open WebUI's do, else one JSON array.
  // No HEAD twin: Fastify would read the whole export only to throw it away.
  app.get(`${base}/all`, { config: verified, exposeHeadRoute: false }, async (request, reply) => {
    const all = await chats.exportAll(callerOf(request).id);
    const isNdjson = asksForNdjson(request.headers.accept);
    return reply
      .header('content-type', isNdjson ? 'application/x-ndjson; charset=utf-8' : 'application/json; charset=utf-8')
      .header('vary', 'accept')
      .header('cache-control', 'no-store')
      .send(Readable.from(isNdjson ? toChatsNdjson(all) : toChatsJsonArray(all), { highWaterMark: 1 }));
  });

  app.post(`${base}/import`, { config: verified, schema: { body: importBody } }, async (request) => {
    const body = request.body;
    const created = (await chats.importChats(callerOf(request).id, Array.isArray(body) ? body : [body])).map(present);
    return Array.isArray(body) ? created : created[0];
  });

  app.post(`${base}/archive/all`, { config: verified }, async (request) => {
    await chats.setAllArchived(callerOf(request).id, true);
    return true;
  });

  app.post(`${base}/unarchive/all`, { config: verified }, async (request) => {
    await chats.setAllArchived(callerOf(request).id, false);
    return true;
  });

  app.delete(`${base}/`, { config: verified }, async (request) => {
    await chats.removeAll(callerOf(request).id);
    return true;
  });

  app.get(`${base}/:id`, { config: verified, schema: { params: chatParams } }, async (request) =>
    present(await chats.get(callerOf(request).id, request.params.id)),
  );

  app.get(`${base}/:id/export`, { config: verified, schema: { params: chatParams } }, async (request) =>
    present(await chats.get(callerOf(request).id, request.params.id)),
  );

  app.post(`${base}/:id`, { config: verified, schema: { params: chatParams, body: chatBody } }, async (request) =>
    present(await chats.update(callerOf(request).id, request.params.id, request.body.chat)),
  );

  app.delete(`${base}/:id`, { config: verified, schema: { params: chatParams } }, async (request) => {
    await chats.remove(callerOf(request).id, request.params.id);
    return true;
  });

  app.post(`${base}/:id/pin`, { config: verified, schema: { params: chatParams } }, async (request) =>
    present(await chats.togglePinned(callerOf(request).id, request.params.id)),
  );

  app.get(`${base}/:id/pinned`, { config: verified, schema: { params: chatParams } }, async (request) =>
    chats.isPinned(callerOf(request).id, request.params.id),
  );

  app.post(`${base}/:id/archive`, { config: verified, schema: { params: chatParams } }, async (request) =>
    present(await chats.toggleArchived(callerOf(request).id, request.params.id)),
  );

  app.post(`${base}/:id/clone`, { config: verified, schema: { params: chatParams, body: cloneBody } }, async (request) =>
    present(await chats.clone(callerOf(request).id, request.params.id, request.body?.title)),
  );

  app.post(`${base}/:id/messages`, { config: verified, schema: { params: chatParams, body: addMessageBody } }, async (request) =>
    toMessageResponse(await chats.addMessage(callerOf(request).id, request.params.id, request.body), []),
  );

  app.post(`${base}/:id/current`, { config: verified, schema: { params: chatParams, body: setCurrentBody } }, async (request) =>
    present(await chats.setCurrent(callerOf(request).id, request.params.id, request.body.message_id)),
  );

  app.get(`${base}/:id/messages/:messageId`, { config: verified, schema: { params: messageParams } }, async (request) => {
    const { message, childrenIds } = await chats.getMessage(callerOf(request).id, request.params.id, request.params.messageId);
    return toMessageResponse(message, childrenIds);
  });
}
