import Fastify from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../http/app-types.js';
import type { ChatRow } from '../../platform/db/schema.js';
import { asksForNdjson, chatsRoutes } from './chats.routes.js';
import type { ChatsService, FullChat } from './chats.service.js';

describe('asksForNdjson', () => {
  it("reads Open WebUI's Accept header as a request for NDJSON, anything else as JSON", () => {
    expect(asksForNdjson('application/x-ndjson')).toBe(true);
    expect(asksForNdjson('application/json, application/x-ndjson;q=0.5')).toBe(true);
    expect(asksForNdjson('Application/NDJSON')).toBe(true);
    expect(asksForNdjson(undefined)).toBe(false);
    expect(asksForNdjson('*/*')).toBe(false);
    expect(asksForNdjson('application/json')).toBe(false);
    expect(asksForNdjson('application/x-ndjson;q=0')).toBe(false);
    expect(asksForNdjson('application/x-ndjson; q=0.0, application/json')).toBe(false);
  });
});

describe('GET /api/v1/chats/all when reading fails half-way', () => {
  let app: App;
  let url: string;
  const chat: ChatRow = { id: 'c1', user_id: 'u1', title: 'T', current_message_id: null, is_pinned: 0, is_archived: 0, meta: '{}', created_at: 0, updated_at: 0 };

  beforeAll(async () => {
    app = Fastify().withTypeProvider<ZodTypeProvider>();
    app.setValidatorCompiler(validatorCompiler);
    app.setSerializerCompiler(serializerCompiler);
    app.addHook('onRequest', async (request) => {
      request.user = { id: 'u1', email: 'u@example.com', name: 'U', role: 'user', sessionId: null };
    });
    async function* failingAfterOne(): AsyncGenerator<FullChat> {
      yield { chat, messages: [] };
      throw new Error('database went away');
    }
    chatsRoutes(app, { exportAll: async () => failingAfterOne() } as unknown as ChatsService);
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(() => app.close());

  // A cut export must never read as a complete one: the connection breaks instead of ending cleanly.
  it.each([['application/json'], ['application/x-ndjson']])('breaks the response (%s) instead of ending it as if complete', async (accept) => {
    const response = await fetch(`${url}/api/v1/chats/all`, { headers: { accept } });
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
  });
});
