import type { App } from '../../http/app-types.js';
import { callerOf } from '../../http/access.js';
import type { GenerationsService } from '../generations/generations.service.js';
import { completionBody, generationParams, resumeHeaders, resumeQuery } from './completions.schema.js';
import type { CompletionsService } from './completions.service.js';
import { OpenAiSseWriter, toCompletionJson } from './openai-writers.js';
import { relayStream, runToEnd } from './relay.js';
import { followGeneration } from './resume.js';

/** OpenAI-compatible chat completions (`/api/chat/completions`), streamed or not. */
export function completionsRoutes(app: App, completions: CompletionsService, generations: GenerationsService): void {
  app.post('/api/chat/completions', { config: { access: 'verified' }, schema: { body: completionBody } }, async (request, reply) => {
    const user = callerOf(request);
    const body = request.body;
    if (body.stream) {
      const listener = new OpenAiSseWriter(reply.raw, { 'x-request-id': request.id }, body.stream_options?.include_usage === true, body.chat_id !== undefined);
      return relayStream(reply, completions, user, body, listener);
    }
    const { generation, outcome } = await runToEnd(reply, completions, user, body);
    return toCompletionJson(generation.info, outcome);
  });

  app.post('/api/chat/completions/:id/stop', { config: { access: 'verified' }, schema: { params: generationParams } }, async (request) => {
    await generations.stop(callerOf(request), request.params.id);
    return { status: true };
  });

  app.get(
    '/api/chat/completions/:id/stream',
    { config: { access: 'verified' }, schema: { params: generationParams, headers: resumeHeaders, querystring: resumeQuery } },
    async (request, reply) => {
      const lastEventId = request.headers['last-event-id'] ?? request.query.last_event_id;
      const generation = await generations.resumable(callerOf(request), request.params.id);
      reply.hijack();
      // A log that cannot be read or taken over now (Redis unreachable, say) cuts the stream as a dead instance would:
      // the client resumes after the last id it saw instead of waiting on a silent response.
      await followGeneration(reply.raw, generation, lastEventId === undefined ? 0 : Number(lastEventId), { 'x-request-id': request.id }).catch(() =>
        reply.raw.destroy(),
      );
      return reply;
    },
  );
}
