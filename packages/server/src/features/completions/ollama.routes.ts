import type { FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { App } from '../../http/app-types.js';
import { callerOf } from '../../http/access.js';
import type { CompletionBody } from './completions.schema.js';
import type { CompletionsService } from './completions.service.js';
import { relayStream, runToEnd } from './relay.js';
import { ollamaChatBody, ollamaGenerateBody } from './ollama.schema.js';
import { ollamaFinal, OllamaNdjsonWriter, type OllamaShape } from './ollama-writers.js';

type OllamaOptions = z.infer<typeof ollamaChatBody>['options'];

function withOptions(body: Omit<CompletionBody, 'stream'>, options: OllamaOptions): CompletionBody {
  return {
    ...body,
    stream: true,
    ...(options?.temperature !== undefined ? { temperature: options.temperature } : {}),
    ...(options?.top_p !== undefined ? { top_p: options.top_p } : {}),
    ...(options?.num_predict !== undefined && options.num_predict > 0 ? { max_tokens: options.num_predict } : {}),
    ...(options?.seed !== undefined ? { seed: options.seed } : {}),
    ...(options?.stop !== undefined ? { stop: options.stop } : {}),
  } as CompletionBody;
}

/** Ollama-compatible endpoints under /ollama, served from every connection (Ollama and OpenAI alike). */
export function ollamaRoutes(app: App, completions: CompletionsService): void {
  app.get('/ollama/api/version', { config: { access: 'verified' } }, async () => ({ version: '0.6.0' }));

  app.get('/ollama/api/tags', { config: { access: 'verified' } }, async () => ({
    models: (await completions.listModels()).map((model) => ({
      name: model.id,
      model: model.id,
      modified_at: new Date(model.created * 1000).toISOString(),
      size: 0,
      digest: '',
      details: { format: '', family: model.owned_by, parameter_size: '', quantization_level: '' },
    })),
  }));

  async function relay(request: FastifyRequest, reply: FastifyReply, shape: OllamaShape, body: CompletionBody, stream: boolean) {
    const user = callerOf(request);
    if (stream) return relayStream(reply, completions, user, body, new OllamaNdjsonWriter(reply.raw, shape, { 'x-request-id': request.id }));
    const { generation, outcome } = await runToEnd(reply, completions, user, body);
    return ollamaFinal(shape, generation.info, outcome, outcome.content);
  }

  app.post('/ollama/api/chat', { config: { access: 'verified' }, schema: { body: ollamaChatBody } }, async (request, reply) => {
    const { model, messages, stream, options } = request.body;
    const converted = messages.map(({ images, ...message }) =>
      images?.length
        ? {
            ...message,
            content: [
              { type: 'text', text: typeof message.content === 'string' ? message.content : '' },
              ...images.map((image) => ({ type: 'image_url', image_url: { url: `data:image/png;base64,${image}` } })),
            ],
          }
        : message,
    );
    return relay(request, reply, 'chat', withOptions({ model, messages: converted } as CompletionBody, options), stream);
  });

  app.post('/ollama/api/generate', { config: { access: 'verified' }, schema: { body: ollamaGenerateBody } }, async (request, reply) => {
    const { model, prompt, system, stream, options } = request.body;
    const messages = [...(system ? [{ role: 'system' as const, content: system }] : []), { role: 'user' as const, content: prompt }];
    return relay(request, reply, 'generate', withOptions({ model, messages } as CompletionBody, options), stream);
  });
}
